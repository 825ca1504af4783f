import type { Money } from '@cardplane/contracts'

/** An account as the API shows it. */
export interface AccountView {
  id: string
  currency: string
  balance: Money
  held: Money
  /** balance - held; negative only after forced holds (posted advices). */
  available: Money
  createdAt: string
}

/** Status of a hold. */
export type HoldStatus = 'active' | 'released' | 'captured' | 'expired'

/** A hold as the API shows it. */
export interface HoldView {
  id: string
  authorizationId: string
  accountId: string
  status: HoldStatus
  /** Held now. */
  amount: Money
  /** Total requested (initial + increments). */
  requested: Money
  captured: Money
  released: Money
  forced: boolean
  expiresAt: string
  createdAt: string
}

/** Answer to placing a hold. `replayed`: this authorizationId was seen before; this is the stored result. */
export interface PlaceHoldResult {
  result: 'placed' | 'partial' | 'insufficient_funds'
  hold?: HoldView
  available: Money
  replayed: boolean
}

/** Answer to an operation on an existing hold (increment, release, capture). */
export interface HoldOperationResult {
  operationId: string
  kind: 'increment' | 'release' | 'capture'
  result: 'applied' | 'partial' | 'insufficient_funds' | 'not_active'
  /** Amount this operation moved (added, released or captured). */
  amount: Money
  hold: HoldView
  replayed: boolean
}

/** Answer to a credit. */
export interface CreditResult {
  idempotencyKey: string
  account: AccountView
  replayed: boolean
}
