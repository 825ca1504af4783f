/**
 * KeyService over the key service's Vault-shaped HTTP API, through `node-vault`
 * (`noCustomHTTPVerbs`: node's HTTP server refuses LIST). The client logs in with this workload's
 * JWT-SVID at `auth/spiffe/login` and logs in again shortly before the token expires or when a call
 * answers 403 (token revoked or expired early).
 */
import vault from 'node-vault'
import type { JwtSvidSource } from '@cardplane/spiffe'
import { UpstreamError } from '@cardplane/service-kit'
import { vaultTransport, type VaultTransport } from '@cardplane/vault-transport'
import { CvvBatcher, CvvItemError, type CvvBatchResult } from './cvv-batcher.js'
import type { ArqcInput, CvvInput, DataKey, KeyService, PinBlockInput, PinVerifyInput, StoredPinBlock } from './key-service.js'

/** Paths of the key service's engines used by the card vault (see cde/keyvault/README.md). */
export const KEYVAULT_PATHS = {
  login: 'auth/spiffe/login',
  datakey: (kek: string) => `transit/datakey/plaintext/${kek}`,
  decrypt: (kek: string) => `transit/decrypt/${kek}`,
  rewrap: (kek: string) => `transit/rewrap/${kek}`,
  /** A wrapped-only data key: its `key_version` is the KEK's newest version (no read right needed). */
  probe: (kek: string) => `transit/datakey/wrapped/${kek}`,
  cvv: (cvk: string) => `payments/cvv/generate/${cvk}`,
  cvvVerify: (cvk: string) => `payments/cvv/verify/${cvk}`,
  pvv: (pvk: string) => `payments/pin/pvv/generate/${pvk}`,
  pinVerify: (pvk: string) => `payments/pin/pvv/verify/${pvk}`,
  arqcVerify: (imk: string) => `payments/emv/arqc/verify/${imk}`,
  pinTranslate: 'payments/pin/translate',
  pinEncrypt: (pek: string) => `payments/pin/encrypt/${pek}`,
  pinDecrypt: (pek: string) => `payments/pin/decrypt/${pek}`,
  pinRewrap: (pek: string) => `payments/pin/rewrap/${pek}`,
  /** Key metadata (versions, never material): the PIN storage key's latest version. */
  keyRead: (name: string) => `keys/${name}`,
} as const

/** Options of the adapter. */
export interface VaultKeyServiceOptions {
  endpoint: string
  svids: JwtSvidSource
  /** SPIFFE ID of the key service (the JWT-SVID audience). */
  audience: string
  timeoutMs?: number
  /**
   * CVV verifications per key-service call (`batch_input`): verifications arriving together are sent
   * as one call of at most this many items. 1: every verification is its own call. Default 64.
   */
  cvvBatchMax?: number
}

interface VaultAnswer {
  data?: Record<string, unknown>
  auth?: { client_token?: string; lease_duration?: number }
}

/** node-vault backed key service client. */
export class VaultKeyService implements KeyService {
  private readonly client: ReturnType<typeof vault>
  private readonly transport: VaultTransport
  #login: Promise<void> | undefined
  /** Present when CVV verifications are batched (cvvBatchMax > 1). */
  readonly cvvBatcher: CvvBatcher | undefined
  #expiresAt = 0

  constructor(private readonly opts: VaultKeyServiceOptions) {
    this.transport = vaultTransport(opts.endpoint, { timeoutMs: opts.timeoutMs ?? 5000 })
    this.client = vault({
      apiVersion: 'v1',
      endpoint: opts.endpoint,
      noCustomHTTPVerbs: true,
      'request-promise': this.transport,
    })
    const batchMax = opts.cvvBatchMax ?? 64
    this.cvvBatcher =
      batchMax > 1
        ? new CvvBatcher(async (cvkName, items) => {
            const d = await this.call(KEYVAULT_PATHS.cvvVerify(cvkName), { batch_input: items })
            return Array.isArray(d.batch_results) ? (d.batch_results as CvvBatchResult[]) : []
          }, { maxBatch: batchMax })
        : undefined
  }

  /** Close the keep-alive connections. */
  async close(): Promise<void> {
    await this.transport.close()
  }

  private async login(): Promise<void> {
    const svid = await this.opts.svids.fetchJwtSvid(this.opts.audience)
    const res = (await this.client.write(KEYVAULT_PATHS.login, { jwt: svid.token })) as VaultAnswer
    const token = res.auth?.client_token
    if (!token) throw new UpstreamError('keyvault_login_failed', { retry: true })
    this.client.token = token
    // Renew at 80% of the lease so a request never races the expiry.
    this.#expiresAt = Date.now() + (res.auth?.lease_duration ?? 300) * 800
  }

  private async ensureLogin(force = false): Promise<void> {
    if (!force && this.client.token && Date.now() < this.#expiresAt) return
    this.#login ??= this.login().finally(() => {
      this.#login = undefined
    })
    await this.#login
  }

  private async call(path: string, body: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    await this.ensureLogin()
    for (let attempt = 0; ; attempt++) {
      try {
        const res = (body === undefined ? await this.client.read(path) : await this.client.write(path, body)) as VaultAnswer
        return res.data ?? {}
      } catch (err) {
        const status = (err as { response?: { statusCode?: number } }).response?.statusCode
        // A dropped keep-alive connection or an expired token: one fresh attempt.
        if (status === 403 && attempt === 0) {
          await this.ensureLogin(true)
          continue
        }
        const reason = (err as { response?: { body?: { errors?: unknown[] } } }).response?.body?.errors?.[0]
        throw new UpstreamError('keyvault_error', {
          message: `key service ${path.split('/').slice(0, 2).join('/')} failed (${status ?? 'network'})`,
          retry: status === undefined || status >= 500,
          context: { status: status ?? null, reason: typeof reason === 'string' ? reason.slice(0, 120) : null },
        })
      }
    }
  }

  async generateDataKey(kekName: string): Promise<DataKey> {
    const d = await this.call(KEYVAULT_PATHS.datakey(kekName), { bits: 256 })
    return { plaintext: Buffer.from(String(d.plaintext), 'base64'), wrapped: String(d.ciphertext), kekVersion: Number(d.key_version) }
  }

  async unwrapDataKey(kekName: string, wrapped: string): Promise<Buffer> {
    const d = await this.call(KEYVAULT_PATHS.decrypt(kekName), { ciphertext: wrapped })
    return Buffer.from(String(d.plaintext), 'base64')
  }

  async rewrapDataKey(kekName: string, wrapped: string): Promise<{ wrapped: string; kekVersion: number }> {
    const d = await this.call(KEYVAULT_PATHS.rewrap(kekName), { ciphertext: wrapped })
    return { wrapped: String(d.ciphertext), kekVersion: Number(d.key_version) }
  }

  async latestKekVersion(kekName: string): Promise<number> {
    const d = await this.call(KEYVAULT_PATHS.probe(kekName), {})
    return Number(d.key_version)
  }

  private cvvBody(input: CvvInput): Record<string, unknown> {
    return { pan: input.pan, expiry: input.expiry, kind: input.kind, ...(input.kind === 'cvv' ? { service_code: input.serviceCode } : {}) }
  }

  async cvv(input: CvvInput): Promise<string> {
    const d = await this.call(KEYVAULT_PATHS.cvv(input.cvkName), this.cvvBody(input))
    return String(d.cvv)
  }

  async verifyCvv(input: CvvInput & { cvv: string }): Promise<boolean> {
    const body = { ...this.cvvBody(input), cvv: input.cvv }
    if (!this.cvvBatcher) {
      const d = await this.call(KEYVAULT_PATHS.cvvVerify(input.cvkName), body)
      return d.valid === true
    }
    try {
      return await this.cvvBatcher.verify(input.cvkName, body)
    } catch (err) {
      // An item the key service refused on its own: the same error a single call would have raised.
      if (err instanceof CvvItemError) {
        throw new UpstreamError('keyvault_error', {
          message: 'key service payments/cvv failed (item)',
          retry: false,
          context: { status: null, reason: err.code.slice(0, 120) },
        })
      }
      throw err
    }
  }

  async pvv(input: PinBlockInput & { pvkName: string; pvki: number; pan: string }): Promise<string> {
    const d = await this.call(KEYVAULT_PATHS.pvv(input.pvkName), {
      zpk: input.zpkName,
      pin_block: input.pinBlock,
      format: input.pinBlockFormat,
      pan: input.pan,
      pvki: String(input.pvki),
    })
    return String(d.pvv)
  }

  async pvvRandomPin(input: { pvkName: string; pvki: number; pan: string; zpkName: string; pinLength?: number }): Promise<string> {
    const d = await this.call(KEYVAULT_PATHS.pvv(input.pvkName), {
      generate_pin: true,
      zpk: input.zpkName,
      format: 0,
      pan: input.pan,
      pvki: String(input.pvki),
      pin_length: input.pinLength ?? 4,
    })
    return String(d.pvv)
  }

  async verifyPin(input: PinVerifyInput): Promise<boolean> {
    const d = await this.call(KEYVAULT_PATHS.pinVerify(input.pvkName), {
      zpk: input.zpkName,
      pin_block: input.pinBlock,
      format: input.pinBlockFormat,
      pan: input.pan,
      pvki: String(input.pvki),
      pvv: input.pvv,
    })
    return d.valid === true
  }

  async verifyArqc(input: ArqcInput): Promise<{ ok: boolean; arpc?: string }> {
    const d = await this.call(KEYVAULT_PATHS.arqcVerify(input.imkName), {
      profile: input.profile,
      pan: input.pan,
      psn: input.panSequence,
      atc: input.atc,
      cdol_data: input.cdolData,
      arqc: input.arqc,
      ...(input.un ? { un: input.un } : {}),
      ...(input.arc ? { arc: input.arc } : {}),
      ...(input.csu ? { csu: input.csu } : {}),
    })
    return { ok: d.valid === true, ...(typeof d.arpc === 'string' ? { arpc: d.arpc } : {}) }
  }

  // PIN storage (PIN set / PIN reveal sessions): ISO 9564 format 4 blocks under the `pek` storage key.

  async pvvRandomPinStored(input: { pvkName: string; pvki: number; pan: string; pekName: string; pinLength?: number }): Promise<{ pvv: string } & StoredPinBlock> {
    const d = await this.call(KEYVAULT_PATHS.pvv(input.pvkName), {
      generate_pin: true,
      zpk: input.pekName,
      format: 4,
      pan: input.pan,
      pvki: String(input.pvki),
      pin_length: input.pinLength ?? 4,
    })
    return { pvv: String(d.pvv), pekName: input.pekName, pinBlock: String(d.pin_block), keyVersion: Number(d.pin_block_key_version ?? 0) }
  }

  async translatePinToStorage(input: PinBlockInput & { pan: string; pekName: string }): Promise<StoredPinBlock> {
    const d = await this.call(KEYVAULT_PATHS.pinTranslate, {
      source_key: input.zpkName,
      destination_key: input.pekName,
      pin_block: input.pinBlock,
      source_format: input.pinBlockFormat,
      destination_format: 4,
      pan: input.pan,
    })
    return { pekName: input.pekName, pinBlock: String(d.pin_block), keyVersion: Number(d.destination_key_version) }
  }

  async encryptPin(input: { pekName: string; pan: string; pin: string }): Promise<StoredPinBlock> {
    const d = await this.call(KEYVAULT_PATHS.pinEncrypt(input.pekName), { pin: input.pin, pan: input.pan, format: 4 })
    return { pekName: input.pekName, pinBlock: String(d.pin_block), keyVersion: Number(d.key_version) }
  }

  async decryptPin(input: StoredPinBlock & { pan: string }): Promise<string> {
    const d = await this.call(KEYVAULT_PATHS.pinDecrypt(input.pekName), {
      pin_block: input.pinBlock,
      pan: input.pan,
      format: 4,
      ...(input.keyVersion > 0 ? { key_version: input.keyVersion } : {}),
    })
    return String(d.pin)
  }

  async rewrapPin(input: StoredPinBlock & { pan: string }): Promise<StoredPinBlock> {
    const d = await this.call(KEYVAULT_PATHS.pinRewrap(input.pekName), {
      pin_block: input.pinBlock,
      key_version: input.keyVersion,
      pan: input.pan,
      format: 4,
    })
    return { pekName: input.pekName, pinBlock: String(d.pin_block), keyVersion: Number(d.key_version) }
  }

  async latestPinKeyVersion(pekName: string): Promise<number> {
    const d = await this.call(KEYVAULT_PATHS.keyRead(pekName), undefined)
    const pinned = Number(d.min_encryption_version ?? 0)
    const v = pinned > 0 ? pinned : Number(d.latest_version)
    if (!Number.isInteger(v) || v < 1) throw new UpstreamError('keyvault_error', { message: 'key service keys/<pek> answered no version', retry: true })
    return v
  }
}
