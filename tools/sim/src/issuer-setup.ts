import { encodePinBlock, encryptPinBlock } from '@cardplane/payment-crypto'
import type { ServiceClient } from '@cardplane/service-kit'

/**
 * Setting up cards for simulated traffic, against the services' HTTP APIs. Each call goes through a
 * `call(service, method, path, body)` function so the same code runs with whatever identity and route the
 * caller has (the demo and tests call as `cards` would; card details come back only through a reveal).
 */
export type Call = <T>(service: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => Promise<T>

/** A card program as the card vault takes it (keys by name in the key service). */
export interface SimProgram {
  id: string
  bin: string
  panLength: number
  accountStart: string
  rangeSize: string
  validityMonths: number
  serviceCode: string
  pinTryLimit: number
  cvkName: string
  pvkName: string
  pvki: number
  imkAcName?: string
  arqcProfile?: 'visa-cvn10' | 'visa-cvn18' | 'visa-cvn22'
}

/** An issued card as the simulator knows it after the reveal. */
export interface IssuedCard {
  cardId: string
  accountId: string
  pan: string
  expiry: string
  cvv2: string
  pin?: string
}

/** Build an ISO format 0 PIN block under a clear ZPK (what an acquirer's PIN pad + HSM would send). */
export function pinBlockUnder(zpk: string, pan: string, pin: string): string {
  return encryptPinBlock({ key: zpk, clearBlock: encodePinBlock({ format: 0, pin, pan }), format: 0, pan })
}

/** HTTP clients the setup needs: the card vault as the processor calls it, ledger and authorizations as `cards`. */
export interface SetupClients {
  request: {
    vault: <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => Promise<T>
    ledger: <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => Promise<T>
    authorizations: <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => Promise<T>
  }
}

/** {@link SetupClients} over service-kit clients of the card vault, the ledger and authorizations. */
export function setupClients(clients: { vault: ServiceClient; ledger: ServiceClient; authorizations: ServiceClient }): SetupClients {
  const call =
    (c: ServiceClient) =>
    async <T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> =>
      (await c.request<T>({ method, path, ...(body !== undefined ? { body } : {}) })).body
  return { request: { vault: call(clients.vault), ledger: call(clients.ledger), authorizations: call(clients.authorizations) } }
}

/** Options of one batch of cards. */
export interface CardBatchOptions {
  program: SimProgram
  count: number
  /** Funding per account (minor units, EUR). */
  fund?: number
  status?: string
  controls?: Record<string, unknown>
  /** Account id prefix (unique per run). */
  accountPrefix: string
}

/** Cards the card vault issues in one call (its `count` maximum). */
const ISSUE_MAX = 100

/**
 * Issue `count` cards (in card-vault calls of at most {@link ISSUE_MAX}), reveal each once (as the
 * cardholder's reveal page would), open and fund an account per card in the ledger and register the card's
 * state with authorizations.
 */
export async function issueCards(c: SetupClients, o: CardBatchOptions): Promise<IssuedCard[]> {
  const ids: string[] = []
  for (let left = o.count; left > 0; left -= ISSUE_MAX) {
    const issued = await c.request.vault<{ cards: { cardId: string }[] }>('POST', '/v1/cards', { program: o.program, count: Math.min(left, ISSUE_MAX) })
    for (const card of issued.cards) ids.push(card.cardId)
  }
  const out: IssuedCard[] = []
  for (const [i, cardId] of ids.entries()) {
    const s = await c.request.vault<{ token: string }>('POST', `/v1/cards/${cardId}/sessions`, { kind: 'card' })
    const r = await c.request.vault<{ pan: string; expiryMonth: number; expiryYear: number; cvv2: string }>('POST', '/v1/sessions/reveal', { token: s.token })
    const expiry = `${String(r.expiryYear % 100).padStart(2, '0')}${String(r.expiryMonth).padStart(2, '0')}`
    const accountId = `${o.accountPrefix}_${i}`
    await c.request.ledger('POST', '/v1/accounts', { id: accountId, currency: 'EUR' })
    if (o.fund) await c.request.ledger('POST', `/v1/accounts/${accountId}/credits`, { idempotencyKey: `fund_${accountId}`, amount: { minor: o.fund, currency: 'EUR' } })
    await c.request.authorizations('PUT', `/v1/cards/${cardId}`, {
      accountId,
      programId: o.program.id,
      status: o.status ?? 'active',
      currency: 'EUR',
      ...(o.controls ? { controls: o.controls } : {}),
    })
    out.push({ cardId, accountId, pan: r.pan, expiry, cvv2: r.cvv2 })
  }
  return out
}
