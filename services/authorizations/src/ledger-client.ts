import type { Money } from '@cardplane/contracts'
import { answeredError, batchResults, type BatchOutcome, type ServiceClient } from '@cardplane/service-kit'

/** A ledger hold, as the ledger's API returns it (the fields the decision uses). */
export interface LedgerHold {
  id: string
  authorizationId: string
  status: 'active' | 'released' | 'captured' | 'expired'
  amount: Money
}

/** Answer of `POST /v1/holds`. */
export interface LedgerPlaceHoldResult {
  result: 'placed' | 'partial' | 'insufficient_funds'
  hold?: LedgerHold
  available: Money
  replayed: boolean
}

/** Answer of increments and releases. */
export interface LedgerHoldOperationResult {
  result: 'applied' | 'partial' | 'insufficient_funds' | 'not_active'
  amount: Money
  hold: LedgerHold
  replayed: boolean
}

/** An account as the ledger shows it. */
export interface LedgerAccount {
  id: string
  currency: string
  available: Money
}

/** What placing a hold takes. */
export interface LedgerPlaceHoldInput {
  authorizationId: string
  accountId: string
  amount: Money
  allowPartial?: boolean
  force?: boolean
}

/** What the decision needs from the ledger. Every mutation is idempotent by the key passed. */
export interface LedgerPort {
  placeHold(input: LedgerPlaceHoldInput): Promise<LedgerPlaceHoldResult>
  /**
   * Several holds in one call (a decision batch): one outcome each, in order; an outcome's error is what
   * placeHold would have thrown for that hold alone. Throws when the call as a whole fails.
   */
  placeHolds(inputs: readonly LedgerPlaceHoldInput[]): Promise<BatchOutcome<LedgerPlaceHoldResult>[]>
  incrementHold(
    holdId: string,
    input: { incrementId: string; amount: Money; allowPartial?: boolean; force?: boolean },
  ): Promise<LedgerHoldOperationResult>
  releaseHold(holdId: string, input: { releaseId: string; amount?: Money }): Promise<LedgerHoldOperationResult>
  findHold(authorizationId: string): Promise<LedgerHold | undefined>
  getHold(holdId: string): Promise<LedgerHold>
  getAccount(accountId: string): Promise<LedgerAccount>
}

/** The ledger over HTTP, through a service-kit client (JWT-SVID for the ledger's SPIFFE ID on every call). */
export function httpLedger(client: ServiceClient, timeoutMs?: number): LedgerPort {
  const t = timeoutMs === undefined ? {} : { timeoutMs }
  const post = async <T>(path: string, body: unknown): Promise<T> =>
    (await client.request<T>({ method: 'POST', path, body, ...t })).body
  const get = async <T>(path: string): Promise<T> => (await client.request<T>({ method: 'GET', path, ...t })).body
  return {
    placeHold: (input) => post('/v1/holds', input),
    async placeHolds(inputs) {
      const path = '/v1/holds/batch'
      const r = await post<{ results?: unknown }>(path, { holds: inputs })
      type Item = { statusCode: number; body: unknown }
      return batchResults<Item>(r, inputs.length, { callee: client.callee, method: 'POST', path }).map((item) =>
        item.statusCode < 300
          ? { ok: true, value: item.body as LedgerPlaceHoldResult }
          : { ok: false, error: answeredError({ callee: client.callee, method: 'POST', path: '/v1/holds' }, item.statusCode, item.body) },
      )
    },
    incrementHold: (holdId, input) => post(`/v1/holds/${encodeURIComponent(holdId)}/increments`, input),
    releaseHold: (holdId, input) => post(`/v1/holds/${encodeURIComponent(holdId)}/releases`, input),
    async findHold(authorizationId) {
      const r = await get<{ holds: LedgerHold[] }>(`/v1/holds?authorizationId=${encodeURIComponent(authorizationId)}`)
      return r.holds[0]
    },
    getHold: (holdId) => get(`/v1/holds/${encodeURIComponent(holdId)}`),
    getAccount: (accountId) => get(`/v1/accounts/${encodeURIComponent(accountId)}`),
  }
}
