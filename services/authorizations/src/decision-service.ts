import type { AuthorizationRequest, DeclineReason, Decision, Money } from '@cardplane/contracts'
import { isCardplaneError, type BatchOutcome } from '@cardplane/service-kit'
import type { ServiceContext } from './context.js'
import { effectiveControls, type CardState } from './domain/card-state.js'
import { derivedKey } from './domain/keys.js'
import { checkPeriodLimits, checkVelocity, movesMoney, preChecks } from './domain/checks.js'
import {
  findAuthorization,
  findOriginal,
  insertAuthorization,
  insertAuthorizationStatement,
  insertAuthorizationsStatement,
  lockCard,
  lockCardForDecision,
  lockCardsForDecisions,
  type AuthorizationRow,
  type DecisionFacts,
} from './store/authorizations-store.js'
import { pipelinedTransaction, type PipelinedTransaction } from '@cardplane/pg-kit'
import { IdempotencyConflictError } from './errors.js'
import type { LedgerPlaceHoldResult } from './ledger-client.js'

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
    const refused = await this.screen(request, card, facts, now)
    if (refused) return decline(refused)
    const amount = request.amounts.cardholderBilling

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
        d = this.fromPlaceHold(request, r)
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

  /**
   * Every check before the ledger, for a known card under its lock: early reversal, network duplicate,
   * card status and controls, velocity (counts this attempt), period limits. The reason to decline, or
   * undefined when the request goes on.
   */
  private async screen(request: AuthorizationRequest, card: CardState, facts: DecisionFacts, now: Date): Promise<DeclineReason | undefined> {
    // The acquirer already cancelled this authorisation (0400 overtook the 0100): never hold for it.
    if (facts.earlyFullReversal) return 'invalid_transaction'
    if (facts.networkDuplicate) return 'duplicate'
    const controls = effectiveControls(card.controls, facts.programControls)
    const pre = preChecks(request, card, controls)
    if (pre) return pre
    if (request.messageClass !== 'balance_inquiry') {
      const velocity = checkVelocity(await this.ctx.velocity.hit(card.cardId, controls.velocity, now))
      if (velocity) return velocity
    }
    if (movesMoney(request)) return checkPeriodLimits(request.amounts.cardholderBilling.minor, facts.usage, controls)
    return undefined
  }

  /** The decision on a placed (or refused) hold; a replayed hold no longer active was released after a lost answer: never approve on it. */
  private fromPlaceHold(request: AuthorizationRequest, r: LedgerPlaceHoldResult): Decision {
    if (r.hold && r.hold.status !== 'active') return this.decision(request, { outcome: 'decline', reason: 'issuer_unavailable' })
    return this.fromHold(request, r.result, r.hold?.id, r.hold?.amount, r.available)
  }

  /**
   * Decide a batch (the app's decision batcher runs it): one outcome per request, in order, each what
   * {@link decide} gives for it alone. Authorisations and financial requests (the ones placing a hold)
   * are decided together when there are several: one transaction locks their cards and reads their facts
   * in one round trip, their holds go to the ledger in one call, and their rows and `COMMIT` go in one
   * statement and round trip. The batcher never puts two requests of one card or one authorizationId in
   * a batch. Every other request is decided alone, alongside.
   */
  async decideMany(requests: readonly AuthorizationRequest[]): Promise<BatchOutcome<Decision>[]> {
    const outcomes: BatchOutcome<Decision>[] = new Array(requests.length)
    const together: number[] = []
    const alone: number[] = []
    requests.forEach((r, i) => (r.messageClass === 'authorization' || r.messageClass === 'financial' ? together : alone).push(i))
    if (together.length < 2) alone.push(...together.splice(0))
    await Promise.all([
      ...alone.map(async (i) => {
        outcomes[i] = await settle(this.decide(requests[i]!))
      }),
      (async () => {
        if (together.length === 0) return
        const decided = await this.decideHolds(together.map((i) => requests[i]!))
        decided.forEach((o, k) => (outcomes[together[k]!] = o))
      })(),
    ])
    return outcomes
  }

  /** {@link decideMany}'s shared transaction for requests that place holds, on distinct cards and ids. */
  private async decideHolds(requests: readonly AuthorizationRequest[]): Promise<BatchOutcome<Decision>[]> {
    const outcomes: (BatchOutcome<Decision> | undefined)[] = new Array(requests.length)
    // Requests whose hold the ledger could not answer for: decided after the transaction, one by one.
    const unanswered: { index: number; failure: unknown }[] = []
    try {
      await pipelinedTransaction(this.ctx.pool, async (tx) => {
        const now = this.ctx.now()
        const states = await lockCardsForDecisions(tx, requests, now)
        const rows: { request: AuthorizationRequest; decision: Decision }[] = []
        const declined = (index: number, reason: DeclineReason): void => {
          const decision = this.decision(requests[index]!, { outcome: 'decline', reason })
          rows.push({ request: requests[index]!, decision })
          outcomes[index] = { ok: true, value: decision }
        }
        const holds: { index: number; card: CardState }[] = []
        await Promise.all(
          states.map(async (state, index) => {
            const request = requests[index]!
            if (state.prior) {
              try {
                outcomes[index] = { ok: true, value: this.replay(state.prior, request) }
              } catch (error) {
                outcomes[index] = { ok: false, error }
              }
              return
            }
            if (!state.card) return declined(index, 'unknown_card')
            const refused = await this.screen(request, state.card, state.facts, now)
            if (refused) return declined(index, refused)
            holds.push({ index, card: state.card })
          }),
        )
        if (holds.length > 0) {
          let placed: BatchOutcome<LedgerPlaceHoldResult>[] | undefined
          try {
            placed = await this.ctx.ledger.placeHolds(
              holds.map(({ index, card }) => ({
                authorizationId: requests[index]!.authorizationId,
                accountId: card.accountId,
                amount: requests[index]!.amounts.cardholderBilling,
                allowPartial: requests[index]!.partialApprovalCapable,
              })),
            )
          } catch (err) {
            if (!isLedgerFailure(err)) throw err
            for (const { index } of holds) unanswered.push({ index, failure: err })
          }
          placed?.forEach((o, k) => {
            const { index } = holds[k]!
            if (!o.ok) {
              if (isLedgerFailure(o.error)) unanswered.push({ index, failure: o.error })
              else outcomes[index] = { ok: false, error: o.error }
              return
            }
            const decision = this.fromPlaceHold(requests[index]!, o.value)
            rows.push({ request: requests[index]!, decision })
            outcomes[index] = { ok: true, value: decision }
          })
        }
        // The declines and decisions of this batch; the unanswered ones store nothing here.
        await tx.commit(...(rows.length > 0 ? [insertAuthorizationsStatement(rows, now)] : []))
      })
    } catch (err) {
      // Nothing of the batch was stored (a row conflicting with a concurrent writer, say). Decide each
      // alone: a placed hold replays in the ledger. Velocity counted these attempts once already and
      // counts them again here: a rare path, and an over-count only errs towards declining.
      this.ctx.log.warn({ err, size: requests.length }, 'decision batch failed; deciding its requests one by one')
      return Promise.all(requests.map((r) => settle(this.decide(r))))
    }
    await Promise.all(
      unanswered.map(async ({ index, failure }) => {
        const request = requests[index]!
        this.ctx.log.warn({ authorizationId: request.authorizationId, err: failure }, 'ledger unavailable during a decision')
        outcomes[index] = await settle(this.afterLedgerFailure(request, true))
      }),
    )
    return outcomes as BatchOutcome<Decision>[]
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

async function settle<T>(p: Promise<T>): Promise<BatchOutcome<T>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  )
}

function zero(currency: string): Money {
  return { minor: 0, currency }
}
