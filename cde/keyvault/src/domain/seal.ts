import { randomBytes } from 'node:crypto'
import { combine, split } from 'shamir-secret-sharing'
import { Barrier, Keyring, KEYRING_PATH, open, ROOT_KEY_PATH, seal, SEAL_CONFIG_PATH } from './barrier.js'
import { ConflictError, InvalidRequestError, KeyvaultError, NotInitializedError } from './errors.js'
import type { PhysicalStorage } from './storage.js'

/**
 * Initialisation, unseal and seal. The unseal key is split with Shamir's secret sharing using the
 * `shamir-secret-sharing` package (Privy's implementation, independently audited by Cure53 and
 * Zellic, zero dependencies, GF(2^8) with constant-time table lookups): it is never stored; the shares
 * go to the custodians and `threshold` of them rebuild it in memory to unwrap the root key.
 */

/** Persisted, unencrypted seal configuration. */
export interface SealConfig {
  secret_shares: number
  secret_threshold: number
  initialized_at: string
}

/** Vault's seal-status body. */
export interface SealStatus {
  type: 'shamir'
  initialized: boolean
  sealed: boolean
  t: number
  n: number
  progress: number
  nonce: string
  version: string
  build_date: string
  migration: boolean
  recovery_seal: boolean
  storage_type: 'postgresql'
}

/** What `sys/init` returns, once. */
export interface InitResult {
  unsealKey: Buffer
  shares: Buffer[]
  threshold: number
}

/** Hooks run right after unseal (load caches) and right before seal (drop them). */
export interface SealHooks {
  afterUnseal(): Promise<void>
  beforeSeal(): void
}

export class SealManager {
  private config: SealConfig | undefined
  private pending: Buffer[] = []
  private nonce = ''
  private hooks: SealHooks[] = []

  constructor(
    private readonly physical: PhysicalStorage,
    readonly barrier: Barrier,
    private readonly version = '1.0.0-cardplane',
  ) {}

  addHooks(h: SealHooks): void {
    this.hooks.push(h)
  }

  async loadConfig(): Promise<SealConfig | undefined> {
    if (!this.config) {
      const raw = await this.physical.get(SEAL_CONFIG_PATH)
      if (raw) this.config = JSON.parse(raw.toString('utf8')) as SealConfig
    }
    return this.config
  }

  async status(): Promise<SealStatus> {
    const cfg = await this.loadConfig()
    return {
      type: 'shamir',
      initialized: cfg !== undefined,
      sealed: this.barrier.sealed,
      t: cfg?.secret_threshold ?? 0,
      n: cfg?.secret_shares ?? 0,
      progress: this.pending.length,
      nonce: this.nonce,
      version: this.version,
      build_date: '2026-01-01T00:00:00Z',
      migration: false,
      recovery_seal: false,
      storage_type: 'postgresql',
    }
  }

  /**
   * Create unseal key, root key and keyring; wrap them; split the unseal key. `initialWrites` run
   * through the barrier with the new keyring before it is sealed again (root token, audit salt), so
   * that init is all-or-nothing: nothing is persisted until every write is prepared.
   */
  async init(shares: number, threshold: number, initialWrites: (b: Barrier) => Promise<void>): Promise<InitResult> {
    if (!Number.isInteger(shares) || shares < 1 || shares > 255) throw new InvalidRequestError('invalid_field', 'secret_shares must be 1..255')
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
      throw new InvalidRequestError('invalid_field', 'secret_threshold must be 1..secret_shares')
    }
    if (threshold === 1 && shares > 1) throw new InvalidRequestError('invalid_field', 'secret_threshold must be at least 2 when secret_shares > 1')
    if (await this.loadConfig()) throw new ConflictError('already_initialized', 'Vault is already initialized')

    const unsealKey = randomBytes(32)
    const rootKey = randomBytes(32)
    const keyring = Keyring.fresh()
    const parts = shares === 1 ? [Buffer.from(unsealKey)] : (await split(new Uint8Array(unsealKey), shares, threshold)).map((s) => Buffer.from(s))
    const config: SealConfig = { secret_shares: shares, secret_threshold: threshold, initialized_at: new Date().toISOString() }

    // The barrier is briefly open with the new keyring to write the first entries; the seal config is
    // written last so a crash before it leaves the service uninitialised (and re-initialisable).
    this.barrier.install(Buffer.from(rootKey), new Keyring(keyring.terms.map((t) => ({ ...t, key: Buffer.from(t.key) }))))
    try {
      await initialWrites(this.barrier)
    } finally {
      this.barrier.drop()
    }
    await this.physical.apply([
      { op: 'put', path: ROOT_KEY_PATH, value: seal(unsealKey, 0, rootKey, ROOT_KEY_PATH) },
      { op: 'put', path: KEYRING_PATH, value: seal(rootKey, 0, keyring.serialize(), KEYRING_PATH) },
      { op: 'put', path: SEAL_CONFIG_PATH, value: Buffer.from(JSON.stringify(config)) },
    ])
    this.config = config
    rootKey.fill(0)
    keyring.wipe()
    return { unsealKey, shares: parts, threshold }
  }

  /** Submit one share; unseals when `threshold` distinct shares are in. */
  async unseal(share: Buffer | undefined, reset = false): Promise<SealStatus> {
    const cfg = await this.loadConfig()
    if (!cfg) throw new NotInitializedError()
    if (reset) {
      this.resetProgress()
      return this.status()
    }
    if (!this.barrier.sealed) return this.status()
    if (!share || share.length === 0) throw new InvalidRequestError('missing_field', 'key is required')
    const expectedLen = cfg.secret_shares === 1 ? 32 : 33
    if (share.length !== expectedLen) throw new InvalidRequestError('invalid_length', `key must be ${expectedLen} bytes`)
    if (this.pending.length === 0) this.nonce = randomBytes(16).toString('hex')
    if (!this.pending.some((p) => p.equals(share))) this.pending.push(Buffer.from(share))
    if (this.pending.length < cfg.secret_threshold) return this.status()

    const shares = this.pending
    this.pending = []
    this.nonce = ''
    const unsealKey = cfg.secret_shares === 1 ? Buffer.from(shares[0] ?? Buffer.alloc(0)) : Buffer.from(await combine(shares.map((x) => new Uint8Array(x))))
    shares.forEach((s) => s.fill(0))
    let rootKey: Buffer
    let keyring: Keyring
    try {
      const wrappedRoot = await this.physical.get(ROOT_KEY_PATH)
      const wrappedRing = await this.physical.get(KEYRING_PATH)
      if (!wrappedRoot || !wrappedRing) throw new KeyvaultError('barrier_corrupt', 500, 'root key or keyring missing')
      try {
        rootKey = open(unsealKey, wrappedRoot, ROOT_KEY_PATH)
      } catch {
        throw new InvalidRequestError('invalid_unseal_key', 'the unseal key shares do not open the root key; progress was reset')
      }
      keyring = Keyring.parse(open(rootKey, wrappedRing, KEYRING_PATH))
    } finally {
      unsealKey.fill(0)
    }
    this.barrier.install(rootKey, keyring)
    try {
      for (const h of this.hooks) await h.afterUnseal()
    } catch (err) {
      this.sealNow()
      throw err
    }
    return this.status()
  }

  resetProgress(): void {
    this.pending.forEach((p) => p.fill(0))
    this.pending = []
    this.nonce = ''
  }

  /** Drop every key from memory. */
  sealNow(): void {
    for (const h of this.hooks) h.beforeSeal()
    this.barrier.drop()
    this.resetProgress()
  }
}
