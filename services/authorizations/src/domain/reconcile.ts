/**
 * Reconciling a stand-in's answer with what the issuer holds for the same authorisation. The stand-in's
 * answer is what the scheme and the merchant saw, so it wins: the hold is brought to exactly the amount
 * the stand-in approved (zero for a decline), whatever the issuer decided meanwhile. One hold at most.
 */
export type HoldAdjustment =
  | { kind: 'none' }
  /** No hold yet: place one, forced (an advice is never declined, even over balance or limits). */
  | { kind: 'place'; amount: number }
  /** Hold exists: grow it, forced. */
  | { kind: 'increase'; amount: number }
  /** Hold exists: release part or all of it. */
  | { kind: 'release'; amount: number }

/**
 * @param held what is held now for the authorisation (0 when there is no active hold)
 * @param hasActiveHold whether a ledger hold exists and is active
 * @param target what the stand-in approved (0 for a decline)
 */
export function planHoldAdjustment(held: number, hasActiveHold: boolean, target: number): HoldAdjustment {
  if (!hasActiveHold) return target > 0 ? { kind: 'place', amount: target } : { kind: 'none' }
  if (target > held) return { kind: 'increase', amount: target - held }
  if (target < held) return { kind: 'release', amount: held - target }
  return { kind: 'none' }
}

/** What a reversal releases: everything (full) or down to the replacement amount (partial, DE 95). */
export function planReversal(held: number, kind: 'full' | 'partial', replacement?: number): number {
  if (kind === 'full' || replacement === undefined) return held
  return Math.max(held - replacement, 0)
}
