import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { loadZoneMap, REPO_ROOT, serviceByName } from '@cardplane/zones'
import type { SimKeys } from './card-messages.js'

/** Default state dir of `pnpm start` (tools/dev). */
export const DEV_STATE_DIR = process.env.CARDPLANE_DEV_STATE_DIR ?? join(REPO_ROOT, '.dev')

/** File where `40-visa-link.ts` keeps the Visa link's dev keys in clear (DEV ONLY, mode 0600). */
export const LINK_KEYS_FILE = 'visa-link/DEV-ONLY-visa-link-keys.json'

/** What 40-visa-link leaves for the simulator. */
export interface DevLinkInfo {
  warning: string
  port: number
  zpkName: string
  /** Clear ZPK: the simulator plays the acquirer, whose HSM would hold it. */
  zpk: string
}

/** Read the dev link keys written by the bootstrap step. */
export function readDevLink(stateDir = DEV_STATE_DIR): DevLinkInfo | undefined {
  const p = join(stateDir, LINK_KEYS_FILE)
  if (!existsSync(p)) return undefined
  return JSON.parse(readFileSync(p, 'utf8')) as DevLinkInfo
}

/** File where `10-keyvault.ts` keeps the dev IMK-AC in clear (DEV ONLY, mode 0600). */
export const CARD_KEYS_FILE = 'keyvault/DEV-ONLY-card-keys.json'

/** Simulator keys from the dev state: PIN blocks under the link ZPK, chip cryptograms under the dev IMK-AC. */
export function devKeys(stateDir = DEV_STATE_DIR): SimKeys {
  const link = readDevLink(stateDir)
  const keys: SimKeys = link ? { zpk: link.zpk } : {}
  const cardKeysPath = join(stateDir, CARD_KEYS_FILE)
  if (existsSync(cardKeysPath)) {
    const card = JSON.parse(readFileSync(cardKeysPath, 'utf8')) as { imkAc?: string; arqcProfile?: SimKeys['arqcProfile'] }
    if (card.imkAc && card.arqcProfile) Object.assign(keys, { imkAc: card.imkAc, arqcProfile: card.arqcProfile })
  }
  return keys
}

/**
 * Clients acting as the operations console (`console`, group 0) through its dev Workload API socket: the
 * demo issues cards, funds accounts and changes card states the way an operator would. Development only:
 * production operators do not get a workload identity on the CLI.
 */
export function consoleClients(stateDir = DEV_STATE_DIR): { cards: ServiceClient; ledger: ServiceClient; authorizations: ServiceClient; close(): Promise<void> } {
  const zoneMap = loadZoneMap()
  const socket = join(stateDir, 'spiffe', 'console.sock')
  if (!existsSync(socket)) throw new Error(`no dev Workload API socket at ${socket}: is \`pnpm start\` running?`)
  const svids = new WorkloadApiClient({ socketPath: `unix://${socket}` })
  const mk = (callee: string) => createServiceClient({ callee, zoneMap, svids, baseUrl: `http://127.0.0.1:${serviceByName(zoneMap, callee).devPort}`, timeoutMs: 30_000 })
  const clients = { cards: mk('cards'), ledger: mk('ledger'), authorizations: mk('authorizations') }
  return {
    ...clients,
    async close() {
      await Promise.all(Object.values(clients).map((c) => c.close()))
      svids.close()
    },
  }
}

/** Card details as the cardholder's reveal page gives them (JSON variant). */
export interface RevealedCard {
  pan: string
  expiryMonth: number
  expiryYear: number
  cvv2: string
}

// The dev reveal page uses a self-signed certificate on loopback; only then is verification skipped.
const devTls = new Agent({ connect: { rejectUnauthorized: false } })

/** Fetch a one-time reveal URL's JSON variant like a cardholder's app would. */
export async function fetchReveal(jsonUrl: string): Promise<RevealedCard> {
  const u = new URL(jsonUrl)
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '::1'
  const res = await request(jsonUrl, { method: 'GET', ...(loopback ? { dispatcher: devTls } : {}) })
  const body = (await res.body.json()) as RevealedCard & { error?: { code: string } }
  if (res.statusCode !== 200) throw new Error(`reveal failed: ${res.statusCode} ${body.error?.code ?? ''}`)
  return body
}

/** YYMM of a revealed card. */
export function yymm(c: Pick<RevealedCard, 'expiryMonth' | 'expiryYear'>): string {
  return `${String(c.expiryYear % 100).padStart(2, '0')}${String(c.expiryMonth).padStart(2, '0')}`
}
