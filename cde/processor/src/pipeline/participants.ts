import type { AuthorizationRequest, DeclineReason, StandInReason, VerificationResults } from '@cardplane/contracts'
import { DeadlineError } from '@cardplane/service-kit'
import type { Redis } from 'ioredis'
import type { DuplicateWindow } from './duplicate-window.js'
import { standInDecision, type StandInRules } from './stand-in.js'
import { processorDecline, type AuthContext, type CardCheck, type CardVerifier, type Decider, type Participant } from './types.js'

/** Time kept back from the deadline to encode, record and send the answer. */
export const ANSWER_MARGIN_MS = 60

function remaining(ctx: AuthContext): number {
  return Math.max(1, ctx.deadlineAt - Date.now() - ANSWER_MARGIN_MS)
}

/**
 * The pipeline owns the deadline: a remote call is raced against what is left of it, so the scheme is
 * answered in time even when a client ignores the budget it was given (a hung socket, a slow DNS, a bug).
 * The late result, if any, is dropped here; the stand-in advice reconciles it in the main cluster.
 */
export async function withinDeadline<T>(ms: number, call: (timeoutMs: number) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DeadlineError('pipeline_deadline_exceeded', { context: { ms } })), ms)
  })
  const pending = call(ms)
  // A call that loses the race may still reject later: that rejection is expected, not unhandled.
  pending.catch(() => undefined)
  try {
    return await Promise.race([pending, expired])
  } finally {
    clearTimeout(timer)
  }
}

/** Duplicate check on DE 7 + 11 + 32: a retransmission gets the original answer and goes no further. */
export function duplicateCheck(window: DuplicateWindow): Participant {
  return {
    name: 'duplicate-check',
    async run(ctx) {
      const claim = await window.claim(ctx.auth.duplicateKey, ctx.deadlineAt - ANSWER_MARGIN_MS)
      switch (claim.kind) {
        case 'owner':
          ctx.ownsWindow = true
          return 'continue'
        case 'answered':
          ctx.replay = claim.answer
          return 'respond'
        case 'in_flight':
          // The original is still being decided and its answer will carry the decision: this copy is
          // answered "duplicate transmission" rather than risk a second, different answer.
          ctx.decision = processorDecline(ctx, 'duplicate')
          return 'respond'
      }
    },
  }
}

/** The card-vault participant; `start` begins its call ahead of the duplicate check when that is safe. */
export interface VerifyCardParticipant extends Participant {
  /**
   * Start the card check now, alongside the duplicate check, when it has no effect in the card vault: a
   * request without a PIN block only reads (PAN → card ID, CVV2/ARQC/expiry checks). A PIN check counts
   * tries, so it waits until the duplicate check has made this request the window's owner: a
   * retransmission never counts a wrong PIN twice. If the duplicate check answers the request instead,
   * the early result is dropped. Saves the Redis round trip of the claim on the authorisation's clock.
   */
  start(ctx: AuthContext): void
}

/** Card vault: PAN → card ID, and the CVV2/PIN/ARQC/expiry checks. Builds the unified request. */
export function verifyCard(verifier: CardVerifier): VerifyCardParticipant {
  const check = (ctx: AuthContext): Promise<CardCheck | undefined> => {
    const amount = ctx.auth.draft.amounts.cardholderBilling
    const input = { zpkName: ctx.link.zpkName, amountMinor: amount.minor, currency: amount.currency }
    return withinDeadline(remaining(ctx), (ms) => verifier.verify(ctx.auth.envelope, input, ms))
  }
  return {
    name: 'verify-card',
    start(ctx) {
      if (ctx.auth.envelope.hasPinBlock) return
      ctx.cardCheck = check(ctx)
      // Dropped when the duplicate check answers the request: its failure is nobody's to report.
      ctx.cardCheck.catch(() => undefined)
    },
    async run(ctx) {
      const { draft } = ctx.auth
      const card = await (ctx.cardCheck ?? check(ctx))
      if (!card) {
        ctx.decision = processorDecline(ctx, 'unknown_card')
        return 'respond'
      }
      ctx.card = card
      const request: AuthorizationRequest = {
        ...draft,
        authorizationId: ctx.authorizationId,
        cardId: card.cardId,
        lastFour: card.lastFour,
        verification: card.results,
        receivedAt: ctx.receivedAt.toISOString(),
      }
      if (card.programId) request.programId = card.programId
      ctx.request = request
      return 'continue'
    },
  }
}

/**
 * A card that failed authentication is declined in the CDE: the main cluster is not asked to decide on a
 * wrong PIN, CVV2 or cryptogram, and the stand-in can never approve one either.
 */
export function failedCardCheckReason(r: VerificationResults): DeclineReason | undefined {
  if (r.pin === 'locked') return 'pin_tries_exceeded'
  if (r.pin === 'mismatch') return 'invalid_pin'
  if (r.arqc === 'mismatch' || r.arqc === 'locked') return 'invalid_cryptogram'
  if (r.cvv2 === 'mismatch' || r.cvv === 'mismatch' || r.icvv === 'mismatch') return 'invalid_cvv'
  if (r.expiry === 'mismatch') return 'card_expired'
  return undefined
}

/** Decline when a card check failed. */
export function cardAuthentication(): Participant {
  return {
    name: 'card-authentication',
    async run(ctx) {
      const reason = ctx.card ? failedCardCheckReason(ctx.card.results) : undefined
      if (!reason) return 'continue'
      ctx.decision = processorDecline(ctx, reason)
      return 'respond'
    },
  }
}

/**
 * The main cluster decides (through proxy-internal) within what is left of the deadline; on timeout or
 * error the stand-in rules answer and the pipeline records an advice.
 */
export function decide(decider: Decider, rules: StandInRules, redis: Redis, prefix: string): Participant {
  return {
    name: 'decide',
    async run(ctx) {
      const request = ctx.request!
      try {
        const decision = await withinDeadline(remaining(ctx), (ms) => decider.decide(request, ms))
        if (decision.authorizationId !== request.authorizationId) throw new Error('decision for another authorisation')
        ctx.decision = decision
      } catch (err) {
        const why: StandInReason = err instanceof DeadlineError ? 'issuer_timeout' : 'issuer_unavailable'
        ctx.standIn = why
        ctx.standInCause = (err as { code?: string }).code ?? (err as Error).name
        ctx.decision = await standInDecision(rules, request, redis, prefix)
      }
      return 'continue'
    },
  }
}
