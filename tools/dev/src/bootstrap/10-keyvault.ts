// Dev bootstrap for the key service (cde/keyvault): initialise once with dev key custodians, keep the
// dev unseal shares in the state dir (DEV ONLY, mode 0600), unseal on every start, create the dev keys
// later services need and the card-vault policy. Safe to run again: every step checks first.
import { createCipheriv, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import type { BootstrapContext } from '../bootstrap.js'

/** Key names the other services use in development (see docs/keyvault-api.md). */
export const DEV_KEYS = [
  { name: 'cvk', type: 'cvk', why: 'CVV, CVV2 and iCVV of issued cards' },
  { name: 'pvk', type: 'pvk', why: 'Visa PVV and IBM 3624 offsets' },
  { name: 'zpk-visa', type: 'zpk', why: 'PIN blocks on the Visa link', exportable: true },
  { name: 'pin-storage', type: 'pek', why: "card vault's PIN storage key (PIN set and PIN reveal sessions)" },
  { name: 'imk-ac', type: 'imk-ac', why: 'ARQC verification and ARPC', ceremony: true },
  { name: 'imk-cvc3', type: 'imk-cvc3', why: 'Mastercard contactless CVC3' },
  { name: 'card-data', type: 'aes256-gcm96', why: "card vault's envelope encryption (data keys)" },
  { name: 'pan-index', type: 'hmac', why: "card vault's keyed PAN → card ID index" },
] as const

/** The policy card-vault's token gets at `auth/spiffe/login`: named keys, no key management. */
export const CARD_VAULT_POLICY = {
  path: {
    'payments/cvv/+/cvk': { capabilities: ['update'] },
    'payments/cvc3/+/imk-cvc3': { capabilities: ['update'] },
    'payments/pin/translate': { capabilities: ['update'] },
    'payments/pin/pvv/+/pvk': { capabilities: ['update'] },
    'payments/pin/ibm3624/+/pvk': { capabilities: ['update'] },
    'payments/pin/encrypt/pin-storage': { capabilities: ['update'] },
    'payments/pin/decrypt/pin-storage': { capabilities: ['update'] },
    'payments/pin/rewrap/pin-storage': { capabilities: ['update'] },
    // Metadata only (latest_version): the rotation pass's work list of stored PIN blocks.
    'keys/pin-storage': { capabilities: ['read'] },
    'payments/emv/arqc/verify/imk-ac': { capabilities: ['update'] },
    'transit/encrypt/card-data': { capabilities: ['update'] },
    'transit/decrypt/card-data': { capabilities: ['update'] },
    'transit/rewrap/card-data': { capabilities: ['update'] },
    'transit/datakey/+/card-data': { capabilities: ['update'] },
    'transit/keys/card-data': { capabilities: ['read'] },
    'transit/hmac/pan-index': { capabilities: ['update'] },
    'transit/verify/pan-index': { capabilities: ['update'] },
  },
}

const SHARES_FILE = 'DEV-ONLY-keyvault-unseal-shares.json'

/** Where the dev IMK-AC is kept in clear for the simulator, which plays the card's chip (DEV ONLY, 0600). */
export const CARD_KEYS_FILE = 'DEV-ONLY-card-keys.json'

/** ARQC profile of the dev chip cards (services/cards/config/programs.json uses the same). */
export const DEV_ARQC_PROFILE = 'visa-cvn18'

interface DevShares {
  warning: string
  keys: string[]
  root_token: string
}

async function call(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/v1/${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { 'x-vault-token': token } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  if (res.status >= 400 && !(path === 'sys/health')) {
    const errors = Array.isArray(parsed.errors) ? parsed.errors.join('; ') : `status ${res.status}`
    throw new Error(`keyvault ${method} ${path}: ${errors}`)
  }
  return { status: res.status, body: parsed }
}

/** TDES KCV (ANSI X9.24: encrypt eight zero bytes, first three bytes): what a custodian's form shows. */
function kcvOfTdes(componentHex: string): string {
  const k = Buffer.from(componentHex, 'hex')
  const c = createCipheriv('des-ede3-ecb', Buffer.concat([k, k.subarray(0, 8)]), null)
  c.setAutoPadding(false)
  return c.update(Buffer.alloc(8)).subarray(0, 3).toString('hex').toUpperCase()
}

/**
 * Enter a double-length TDES key as two random components by two dev custodians (dual control, as in
 * production) and return its clear value: the dev bootstrap keeps it only for keys the simulator must hold
 * (the card's IMK-AC, the acquirer's ZPK). Production keys never exist in clear outside an HSM.
 */
export async function enterDevKey(base: string, root: string, name: string, type: string): Promise<string> {
  const c1 = randomBytes(16)
  const c2 = randomBytes(16)
  await call(base, 'PUT', `keys/${name}/ceremony`, { type, components: 2 }, root)
  for (const [i, comp] of [c1, c2].entries()) {
    const custodian = `dev-custodian-${i + 1}`
    const tok = await call(base, 'POST', 'auth/token/create', { policies: ['root'], meta: { custodian }, ttl: 300 }, root)
    const token = String((tok.body.auth as { client_token: string }).client_token)
    const hex = comp.toString('hex').toUpperCase()
    await call(base, 'POST', `keys/${name}/ceremony/component`, { custodian, component: hex, kcv: kcvOfTdes(hex) }, token)
    await call(base, 'POST', 'auth/token/revoke-self', {}, token)
  }
  return Buffer.from(c1.map((b, i) => b ^ c2[i]!)).toString('hex').toUpperCase()
}

/** The dev IMK-AC, with its clear copy for the simulator, which plays the card's chip. */
async function devCardKey(ctx: BootstrapContext, base: string, root: string, name: string, type: string, file: string): Promise<void> {
  const info = {
    warning: 'DEVELOPMENT ONLY. The clear issuer master key for application cryptograms of dev cards, for the scheme simulator (it plays the card). Production IMKs never exist in clear outside an HSM.',
    imkAcName: name,
    imkAc: await enterDevKey(base, root, name, type),
    arqcProfile: DEV_ARQC_PROFILE,
  }
  await writeFile(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 })
  await chmod(file, 0o600)
  ctx.log(`key ${name} (${type}) entered by two dev custodians; dev copy for the simulator in ${file}`)
}

export default async function keyvault(ctx: BootstrapContext): Promise<void> {
  const base = ctx.urls.keyvault
  if (!base) throw new Error('no URL for keyvault')
  const dir = join(ctx.stateDir, 'keyvault')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const sharesPath = join(dir, SHARES_FILE)

  const initialized = (await call(base, 'GET', 'sys/init')).body.initialized === true
  let shares: DevShares
  if (!initialized) {
    const r = await call(base, 'PUT', 'sys/init', { secret_shares: 5, secret_threshold: 3 })
    shares = {
      warning: 'DEVELOPMENT ONLY. Real unseal shares go to five different custodians and never to disk; the root token is revoked after the key ceremony.',
      keys: r.body.keys as string[],
      root_token: String(r.body.root_token),
    }
    await writeFile(sharesPath, JSON.stringify(shares, null, 2) + '\n', { mode: 0o600 })
    await chmod(sharesPath, 0o600)
    ctx.log(`keyvault initialised (5 shares, threshold 3); dev shares in ${sharesPath}`)
  } else {
    try {
      shares = JSON.parse(await readFile(sharesPath, 'utf8')) as DevShares
    } catch {
      throw new Error(`keyvault is initialised but ${sharesPath} is missing: drop the cardplane_keyvault database to start over`)
    }
  }

  const status = await call(base, 'GET', 'sys/seal-status')
  if (status.body.sealed === true) {
    for (const k of shares.keys.slice(0, 3)) await call(base, 'PUT', 'sys/unseal', { key: k })
    ctx.log('keyvault unsealed with 3 of 5 dev shares')
  }
  const root = shares.root_token

  // A zone master key for the Visa link, entered by two dev custodians (dual control, as in production).
  const existing = await call(base, 'GET', 'keys?list=true', undefined, root)
  const names = ((existing.body.data as { keys?: string[] } | undefined)?.keys ?? []) as string[]
  if (!names.includes('zmk-visa')) {
    const ceremony = await fetch(`${base}/v1/keys/zmk-visa/ceremony`, { headers: { 'x-vault-token': root } })
    if (ceremony.status === 404) await call(base, 'PUT', 'keys/zmk-visa/ceremony', { type: 'zmk', components: 2 }, root)
    for (const custodian of ['dev-custodian-1', 'dev-custodian-2']) {
      const tok = await call(base, 'POST', 'auth/token/create', { policies: ['root'], meta: { custodian }, ttl: 300 }, root)
      const token = String((tok.body.auth as { client_token: string }).client_token)
      const component = randomBytes(16).toString('hex').toUpperCase()
      const r = await call(base, 'POST', 'keys/zmk-visa/ceremony/component', { custodian, component, kcv: kcvOfTdes(component) }, token)
      await call(base, 'POST', 'auth/token/revoke-self', {}, token)
      const data = r.body.data as { complete?: boolean; combined_kcv?: string }
      if (data.complete) ctx.log(`zmk-visa created by dev custodians, KCV ${String(data.combined_kcv)}`)
    }
  }

  for (const k of DEV_KEYS) {
    if (names.includes(k.name)) continue
    if ('ceremony' in k) {
      await devCardKey(ctx, base, root, k.name, k.type, join(dir, CARD_KEYS_FILE))
      continue
    }
    await call(base, 'POST', `keys/${k.name}`, { type: k.type, exportable: 'exportable' in k ? k.exportable : false }, root)
    ctx.log(`key ${k.name} (${k.type}) created: ${k.why}`)
  }
  await call(base, 'PUT', 'sys/policy/card-vault', { policy: JSON.stringify(CARD_VAULT_POLICY) }, root)
  ctx.log('keyvault ready: dev keys and the card-vault policy in place')
}
