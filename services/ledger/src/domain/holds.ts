/**
 * Pure hold arithmetic. Everything is integer minor units of one currency; the store calls these under a
 * row lock on the account, so the numbers they see are the truth.
 */

/** What to do with a request to hold (or add to a hold) `requested` minor units. */
export type HoldPlan =
  | { kind: 'full'; amount: number }
  | { kind: 'partial'; amount: number }
  | { kind: 'insufficient'; amount: 0 }

/** Inputs of planHold. */
export interface HoldRequest {
  /** Requested amount, positive minor units. */
  requested: number
  /** balance - active holds, may be negative after forced holds. */
  available: number
  /** The caller accepts less than requested (partial approval). */
  allowPartial: boolean
  /** Hold regardless of funds (posting an advice the network already approved). */
  force: boolean
}

/** A hold's requested amount must be a positive integer number of minor units. */
export function checkRequested(requested: number): void {
  if (!Number.isSafeInteger(requested) || requested <= 0) throw new RangeError('requested must be a positive integer')
}

/**
 * Full if forced or funded; otherwise partial for what is available when allowed and something is
 * available; otherwise insufficient.
 */
export function planHold(r: HoldRequest): HoldPlan {
  checkRequested(r.requested)
  if (r.force || r.available >= r.requested) return { kind: 'full', amount: r.requested }
  if (r.allowPartial && r.available > 0) return { kind: 'partial', amount: r.available }
  return { kind: 'insufficient', amount: 0 }
}

/** How much of a hold a release frees: all of it when no amount is given, never more than is held. */
export function planRelease(held: number, amount?: number): { release: number; remaining: number } {
  const release = amount === undefined ? held : Math.min(Math.max(amount, 0), held)
  return { release, remaining: held - release }
}

/** Effect of capturing `amount` against a hold of `held`. */
export interface CapturePlan {
  /** Debited from the balance. May exceed the hold (over-capture, e.g. tips): the balance pays it. */
  debit: number
  /** Taken off the hold by the capture itself. */
  fromHold: number
  /** Released on top because the capture is final. */
  released: number
  /** Still held afterwards. */
  remaining: number
}

/** A capture consumes the hold up to its amount; a final capture releases what is left. */
export function planCapture(held: number, amount: number, final: boolean): CapturePlan {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError('capture amount must be a positive integer')
  const fromHold = Math.min(amount, held)
  const left = held - fromHold
  const released = final ? left : 0
  return { debit: amount, fromHold, released, remaining: left - released }
}

/** A hold stops counting against the balance once it expires (authorisations are not held forever). */
export function isExpired(expiresAt: Date, now: Date): boolean {
  return expiresAt.getTime() <= now.getTime()
}
