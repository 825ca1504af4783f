import type { AuthorizationRequest, DeclineReason, Decision, Money } from '@cardplane/contracts'
import { isCardplaneError } from '@cardplane/service-kit'
import type { ServiceContext } from './context.js'
import { effectiveControls, type CardState } from './domain/card-state.js'
import { derivedKey } from './domain/keys.js'
import { checkPeriodLimits, checkVelocity, movesMoney, preChecks } from './domain/checks.js'
import {
  findAuthorization,
  findOriginal,
  insertAuthorization,
  insertAuthorizationStatement,
  lockCard,
  lockCardForDecision,
  type AuthorizationRow,
  type DecisionFacts,
} from './store/authorizations-store.js'
import { pipelinedTransaction, type PipelinedTransaction } from '@cardplane/pg-kit'
import { IdempotencyConflictError } from './errors.js'

/** Thrown inside the decision transaction when the ledger cannot answer; the transaction rolls back. */
class LedgerUnavailable extends Error {
  constructor(
    readonly failure: unknown,
    readonly placing: boolean,
  ) {
    super('ledger unavailable')
  }
}

function isLedgerFailure(err: unknown): boolean {
  // The ledger answering 4xx is a real answer about this request; anything else means "don't know".
  return !(isCardplaneError(err) && (err.context as { statusCode?: number }).statusCode !== undefined &&
    ((err.context as { statusCode: number }).statusCode < 500))
}

/**
 * `POST /v1/decisions`: decide one unified authorisation request.
 *
 * Idempotent per authorizationId: the decision is stored in this service's database in the same
 * transaction that ran the checks, and the ledger hold is idempotent by the same id, so a repeat (or a
 * concurrent duplicate, serialised by the card row lock) gets the stored decision and there is one hold.
 * If the ledger cannot be reached the answer is `issuer_unavailable` and nothing is stored: a retry is
 * evaluated again (the ledger replays a hold it did place), and an advice reconciles whatever the ledger
 * holds.
 */
export class DecisionService {
  constructor(private readonly ctx: ServiceContext) {}

  async decide(request: AuthorizationRequest): Promise<Decision> {
    try {
      // BEGIN, the card lock and the facts in one round trip; the decision's row and COMMIT in another.
      return await pipelinedTransaction(this.ctx.pool, async (tx) => {
        // Read under the lock: a concurrent duplicate that got the lock first has stored its decision.
        const state = await lockCardForDecision(tx, request, this.ctx.now())
        if (state.prior) return this.replay(state.prior, request)
        return this.decideLocked(tx, request, state.card, state.facts)
      })
    } catch (err) {
      if (!(err instanceof LedgerUnavailable)) throw err
      this.ctx.log.warn({ authorizationId: request.authorizationId, err: err.failure }, 'ledger unavailable during a decision')
      return this.afterLedgerFailure(request, err.placing)
    }
  }

  /**
   * The ledger did not answer, so a hold may or may not exist. Under the card lock again: if a concurrent
   * duplicate has stored a decision meanwhile, that decision stands. Otherwise, for a hold request, look
   * the hold up and release it, then store `issuer_unavailable` so repeats get the same answer. If even
   * that is impossible, answer `issuer_unavailable` without storing: a retry is evaluated afresh (the
   * ledger replays a hold it did place) and an advice reconciles against the ledger's own state.
   */
  private async afterLedgerFailure(request: AuthorizationRequest, placing: boolean): Promise<Decision> {
    const d = this.decision(request, { outcome: 'decline', reason: 'issuer_unavailable' })
    return this.ctx.db.transaction(async (tx) => {
      await lockCard(tx, request.cardId)
      const stored = await findAuthorization(tx, request.authorizationId)
      if (stored) return this.replay(stored, request)
      if (!placing) return d
      try {
        const hold = await this.ctx.ledger.findHold(request.authorizationId)
        if (hold?.status === 'active') {
          await this.ctx.ledger.releaseHold(hold.id, { releaseId: derivedKey(request.authorizationId, 'unavailable') })
        }
        await insertAuthorization(tx, request, d, this.ctx.now())
      } catch (err) {
        this.ctx.log.warn({ authorizationId: request.authorizationId, err }, 'ledger still unavailable; decline not stored')
      }
      return d
    })
  }

  private replay(row: Pick<AuthorizationRow, 'cardId' | 'decision'>, request: AuthorizationRequest): Decision {
    if (row.cardId !== request.cardId) throw new IdempotencyConflictError('authorization', request.authorizationId)
    return row.decision
  }

  private async decideLocked(
    tx: PipelinedTransaction,
    request: AuthorizationRequest,
    card: CardState | undefined,
    facts: DecisionFacts,
  ): Promise<Decision> {
    const now = this.ctx.now()
    const decline = async (reason: DeclineReason, extra: { availableBalance?: Money } = {}): Promise<Decision> => {
      const d = this.decision(request, { outcome: 'decline', reason, ...extra })
      await tx.commit(insertAuthorizationStatement(request, d, now))
      return d
    }
    if (!card) return decline('unknown_card')
    // The acquirer already cancelled this authorisation (0400 overtook the 0100): never hold for it.
    if (facts.earlyFullReversal) return decline('invalid_transaction')
    if (facts.networkDuplicate) return decline('duplicate')

    const controls = effectiveControls(card.controls, facts.programControls)
    const pre = preChecks(request, card, controls)
    if (pre) return decline(pre)

    if (request.messageClass !== 'balance_inquiry') {
      const velocity = checkVelocity(await this.ctx.velocity.hit(card.cardId, controls.velocity, now))
      if (velocity) return decline(velocity)
    }
    const amount = request.amounts.cardholderBilling
    if (movesMoney(request)) {
      const limits = checkPeriodLimits(amount.minor, facts.usage, controls)
      if (limits) return decline(limits)
    }

    let d: Decision
    switch (request.messageClass) {
      case 'balance_inquiry': {
        const account = await this.ledgerCall(false, () => this.ctx.ledger.getAccount(card.accountId))
        d = this.decision(request, { outcome: 'approve', approvedAmount: zero(card.currency), availableBalance: account.available })
        break
      }
      case 'account_verification':
        d = this.decision(request, { outcome: 'approve', approvedAmount: zero(card.currency) })
        break
      case 'authorization':
      case 'financial': {
        const r = await this.ledgerCall(true, () =>
          this.ctx.ledger.placeHold({
            authorizationId: request.authorizationId,
            accountId: card.accountId,
            amount,
            allowPartial: request.partialApprovalCapable,
          }),
        )
        // A replayed hold that is no longer active was released after a lost answer: never approve on it.
        if (r.hold && r.hold.status !== 'active') return decline('issuer_unavailable')
        d = this.fromHold(request, r.result, r.hold?.id, r.hold?.amount, r.available)
        break
      }
      case 'incremental': {
        const original = await findOriginal(tx, request.originalAuthorizationId ?? '')
        if (!original || original.cardId !== card.cardId || !original.holdId || original.outcome === 'decline') {
          return decline('invalid_transaction')
        }
        const holdId = original.holdId
        let r
        try {
          r = await this.ledgerCall(false, () =>
            this.ctx.ledger.incrementHold(holdId, {
              incrementId: request.authorizationId,
              amount,
              allowPartial: request.partialApprovalCapable,
            }),
          )
        } catch (err) {
          // The original's hold was released or captured meanwhile: nothing to increment.
          if ((err as { context?: { upstreamCode?: string } }).context?.upstreamCode === 'hold_not_active') {
            return decline('invalid_transaction')
          }
          throw err
        }
        const result = r.result === 'applied' ? 'placed' : r.result === 'not_active' ? 'insufficient_funds' : r.result
        d = this.fromHold(request, result, holdId, r.amount)
        break
      }
    }
    await tx.commit(insertAuthorizationStatement(request, d, now))
    return d
  }

  private fromHold(
    request: AuthorizationRequest,
    result: 'placed' | 'partial' | 'insufficient_funds',
    holdId: string | undefined,
    held: Money | undefined,
    available?: Money,
  ): Decision {
    const requested = request.amounts.cardholderBilling
    const extra = { ...(holdId ? { holdId } : {}), ...(available ? { availableBalance: available } : {}) }
    switch (result) {
      case 'placed':
        return this.decision(request, { outcome: 'approve', approvedAmount: requested, ...extra })
      case 'partial':
        return this.decision(request, {
          outcome: 'partial',
          approvedAmount: held ?? zero(requested.currency),
          requestedAmount: requested,
          ...extra,
        })
      case 'insufficient_funds':
        return this.decision(request, {
          outcome: 'decline',
          reason: 'insufficient_funds',
          ...(available ? { availableBalance: available } : {}),
        })
    }
  }

  private decision<T extends { outcome: Decision['outcome'] }>(
    request: AuthorizationRequest,
    body: T,
  ): Decision {
    return {
      authorizationId: request.authorizationId,
      source: 'issuer',
      decidedAt: this.ctx.now().toISOString(),
      ...body,
    } as unknown as Decision
  }

  private async ledgerCall<T>(placing: boolean, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (isLedgerFailure(err)) throw new LedgerUnavailable(err, placing)
      throw err
    }
  }
}

function zero(currency: string): Money {
  return { minor: 0, currency }
}
