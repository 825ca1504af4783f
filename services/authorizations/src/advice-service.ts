import type { AdviceResult, AuthorizationAdvice, Decision, Money } from '@cardplane/contracts'
import { and, eq } from 'drizzle-orm'
import type { ServiceContext } from './context.js'
import { advices, reversals } from './db/schema.js'
import { derivedKey } from './domain/keys.js'
import { planHoldAdjustment } from './domain/reconcile.js'
import { InvalidMessageError } from './errors.js'
import type { LedgerHold } from './ledger-client.js'
import {
  findAuthorization,
  insertAuthorization,
  lockCard,
  updateAuthorization,
  type AuthorizationRow,
} from './store/authorizations-store.js'
import type { Queryable } from './store/tx.js'

/** A full reversal of this authorisation was recorded (possibly before the authorisation itself arrived). */
async function fullyReversed(db: Queryable, authorizationId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: reversals.reversalId })
    .from(reversals)
    .where(and(eq(reversals.originalAuthorizationId, authorizationId), eq(reversals.kind, 'full')))
    .limit(1)
  return row !== undefined
}

async function findAdvice(db: Queryable, adviceId: string): Promise<AdviceResult | undefined> {
  const [row] = await db.select().from(advices).where(eq(advices.adviceId, adviceId))
  return row?.result
}

/**
 * `POST /v1/advices`: post a decision a stand-in already gave (processor stand-in after the deadline, or
 * the scheme's STIP). Never declined: an approval is held even over balance or limits (forced hold).
 *
 * Late-decision safety: under the card lock, the stand-in's answer is reconciled with whatever the issuer
 * decided meanwhile for the same authorizationId, and with what the ledger actually holds for it (a hold
 * whose answer was lost is found by authorizationId). The hold ends at exactly the stand-in's amount,
 * so there is one hold at most. Later decision requests for that id replay the stand-in's answer.
 * A full reversal recorded before the advice (the 0420 overtook the 0120, or both were queued and delivered
 * in parallel) wins: the stand-in's approval is recorded as approved and reversed, and nothing is held —
 * that reversal's repeats replay "original not found", so a hold placed now would never be released.
 */
export class AdviceService {
  constructor(private readonly ctx: ServiceContext) {}

  async advise(advice: AuthorizationAdvice): Promise<AdviceResult> {
    const prior = await findAdvice(this.ctx.db, advice.adviceId)
    if (prior) return prior
    const request = advice.request
    const currency = request.amounts.cardholderBilling.currency
    if (advice.approvedAmount && advice.approvedAmount.currency !== currency) {
      throw new InvalidMessageError(advice.adviceId, 'approved amount currency differs from the billing currency')
    }
    const target =
      advice.outcome === 'decline' ? 0 : (advice.approvedAmount?.minor ?? request.amounts.cardholderBilling.minor)

    return this.ctx.db.transaction(async (tx) => {
      const card = await lockCard(tx, request.cardId)
      const raced = await findAdvice(tx, advice.adviceId)
      if (raced) return raced
      if (card && card.currency !== currency) {
        throw new InvalidMessageError(advice.adviceId, "billing currency differs from the card's currency")
      }
      const now = this.ctx.now()
      const existing = await findAuthorization(tx, request.authorizationId)
      const reversed = await fullyReversed(tx, request.authorizationId)
      const holdTarget = reversed ? 0 : target

      let hold: LedgerHold | undefined
      if (card) {
        hold = await this.currentHold(existing, request.authorizationId)
        const active = hold?.status === 'active'
        const plan = planHoldAdjustment(active ? hold!.amount.minor : 0, active, holdTarget)
        const amount = (minor: number): Money => ({ minor, currency })
        switch (plan.kind) {
          case 'none':
            break
          case 'place': {
            // A released or expired hold cannot be reused: a new hold gets its own key.
            const key = hold ? derivedKey(request.authorizationId, `advice:${advice.adviceId}`) : request.authorizationId
            const r = await this.ctx.ledger.placeHold({
              authorizationId: key,
              accountId: card.accountId,
              amount: amount(plan.amount),
              force: true,
            })
            hold = r.hold
            break
          }
          case 'increase':
            hold = (
              await this.ctx.ledger.incrementHold(hold!.id, {
                incrementId: derivedKey(advice.adviceId, 'increase'),
                amount: amount(plan.amount),
                force: true,
              })
            ).hold
            break
          case 'release':
            hold = (
              await this.ctx.ledger.releaseHold(hold!.id, {
                releaseId: derivedKey(advice.adviceId, 'release'),
                amount: amount(plan.amount),
              })
            ).hold
            break
        }
      }

      const decision = this.standInDecision(advice, target, hold?.status === 'active' ? hold.id : undefined)
      if (existing) {
        await updateAuthorization(tx, request.authorizationId, {
          source: advice.source,
          outcome: advice.outcome,
          reason: decision.outcome === 'decline' ? decision.reason : null,
          approvedMinor: target + existing.reversedMinor,
          holdId: decision.holdId ?? existing.holdId,
          issuerOutcome: existing.source === 'issuer' ? existing.outcome : existing.issuerOutcome,
          decision,
          updatedAt: now,
        })
      } else {
        await insertAuthorization(tx, request, decision, now)
      }
      // Approved by the stand-in and already reversed in full: nothing of it counts against the limits.
      if (reversed) {
        const approved = existing ? target + existing.reversedMinor : decision.outcome === 'decline' ? 0 : target
        await updateAuthorization(tx, request.authorizationId, { reversedMinor: approved, updatedAt: now })
      }

      const result: AdviceResult = {
        adviceId: advice.adviceId,
        authorizationId: request.authorizationId,
        status: existing ? 'reconciled' : holdTarget > 0 && card ? 'posted' : 'recorded',
        heldAmount: { minor: card && hold?.status === 'active' ? hold.amount.minor : 0, currency },
        ...(decision.holdId ? { holdId: decision.holdId } : {}),
        ...(existing?.source === 'issuer' ? { issuerOutcome: existing.outcome as 'approve' | 'partial' | 'decline' } : {}),
      }
      await tx.insert(advices).values({ adviceId: advice.adviceId, authorizationId: request.authorizationId, result })
      return result
    })
  }

  /** What the ledger holds for this authorisation now: the stored hold, else one placed under its id. */
  private async currentHold(existing: AuthorizationRow | undefined, authorizationId: string): Promise<LedgerHold | undefined> {
    if (existing?.holdId && existing.messageClass !== 'incremental') return this.ctx.ledger.getHold(existing.holdId)
    return this.ctx.ledger.findHold(authorizationId)
  }

  private standInDecision(advice: AuthorizationAdvice, target: number, holdId: string | undefined): Decision {
    const currency = advice.request.amounts.cardholderBilling.currency
    const common = {
      authorizationId: advice.request.authorizationId,
      source: advice.source,
      decidedAt: advice.standInAt,
      ...(holdId ? { holdId } : {}),
    }
    switch (advice.outcome) {
      case 'approve':
        return { ...common, outcome: 'approve', approvedAmount: { minor: target, currency } }
      case 'partial':
        return {
          ...common,
          outcome: 'partial',
          approvedAmount: { minor: target, currency },
          requestedAmount: advice.request.amounts.cardholderBilling,
        }
      case 'decline':
        return { ...common, outcome: 'decline', reason: advice.reason ?? 'issuer_unavailable' }
    }
  }
}
