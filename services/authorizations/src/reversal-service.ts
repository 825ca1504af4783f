import type { Money, ReversalRequest, ReversalResult } from '@cardplane/contracts'
import { eq } from 'drizzle-orm'
import type { ServiceContext } from './context.js'
import { reversals } from './db/schema.js'
import { planReversal } from './domain/reconcile.js'
import {
  findAuthorization,
  findIncrements,
  lockCard,
  updateAuthorization,
  type AuthorizationRow,
} from './store/authorizations-store.js'
import type { Queryable, Tx } from './store/tx.js'

async function findReversal(db: Queryable, reversalId: string): Promise<ReversalResult | undefined> {
  const [row] = await db.select().from(reversals).where(eq(reversals.reversalId, reversalId))
  return row?.result
}

const held = (row: AuthorizationRow): number => Math.max(row.approvedMinor - row.reversedMinor, 0)

/**
 * `POST /v1/reversals`: release holds for 0400/0420 reversals, full or partial (DE 95 replacement amount).
 * Idempotent per reversalId. An unknown original is answered `original_not_found` and remembered: if the
 * authorisation shows up afterwards (the reversal overtook it), it is declined and nothing is held.
 * Ledger failures are thrown (502/504): the network repeats reversals, and nothing is stored until the
 * release is done.
 */
export class ReversalService {
  constructor(private readonly ctx: ServiceContext) {}

  async reverse(r: ReversalRequest): Promise<ReversalResult> {
    const prior = await findReversal(this.ctx.db, r.reversalId)
    if (prior) return prior
    return this.ctx.db.transaction(async (tx) => {
      // Same lock as decisions: a reversal and the decision it reverses never interleave.
      await lockCard(tx, r.cardId)
      const raced = await findReversal(tx, r.reversalId)
      if (raced) return raced
      const result = await this.apply(tx, r)
      await tx.insert(reversals).values({
        reversalId: r.reversalId,
        originalAuthorizationId: r.originalAuthorizationId,
        kind: r.kind,
        result,
      })
      return result
    })
  }

  private async apply(tx: Tx, r: ReversalRequest): Promise<ReversalResult> {
    const base = { reversalId: r.reversalId, originalAuthorizationId: r.originalAuthorizationId }
    const original = await findAuthorization(tx, r.originalAuthorizationId)
    if (!original || original.cardId !== r.cardId || original.outcome === 'decline' || !original.holdId) {
      return { ...base, status: 'original_not_found' }
    }
    const currency = original.currency
    const money = (minor: number): Money => ({ minor, currency })
    const increments = await findIncrements(tx, original.authorizationId)
    const total = held(original) + increments.reduce((s, i) => s + held(i), 0)
    if (total === 0) return { ...base, status: 'already_reversed', releasedAmount: money(0), remainingAmount: money(0) }
    if (r.kind === 'partial' && r.replacementAmount && r.replacementAmount.currency !== currency) {
      return { ...base, status: 'original_not_found' }
    }
    const release = planReversal(total, r.kind, r.replacementAmount?.minor)
    let released = 0
    if (release > 0) {
      const op = await this.ctx.ledger.releaseHold(original.holdId, {
        releaseId: r.reversalId,
        ...(r.kind === 'full' ? {} : { amount: money(release) }),
      })
      // `not_active`: the hold expired or was captured; our books still record the reversal.
      released = op.result === 'not_active' ? 0 : op.amount.minor
    }
    const now = this.ctx.now()
    if (r.kind === 'full') {
      await updateAuthorization(tx, original.authorizationId, { reversedMinor: original.approvedMinor, updatedAt: now })
      for (const inc of increments) {
        await updateAuthorization(tx, inc.authorizationId, { reversedMinor: inc.approvedMinor, updatedAt: now })
      }
    } else if (release > 0) {
      await updateAuthorization(tx, original.authorizationId, { reversedMinor: original.reversedMinor + release, updatedAt: now })
    }
    return {
      ...base,
      status: r.kind === 'full' ? 'reversed' : 'partially_reversed',
      releasedAmount: money(released),
      remainingAmount: money(total - release),
    }
  }
}
