import type { AuthorizationAdvice, AuthorizationRequest, ReversalRequest } from '@cardplane/contracts'
import type { VisaHeader } from '@cardplane/iso8583'
import { acknowledgement, VISA_DE39, type VisaConnector, type VisaMessage, type VisaNetworkKey, type VisaReversal, type VisaResponseCode, type VisaStandInAdvice } from '@cardplane/visa'
import type { DuplicateWindow } from './duplicate-window.js'
import { ANSWER_MARGIN_MS, withinDeadline } from './participants.js'
import type { AdviceSink, CardResolver, CardVerifier, LinkConfig, MainClusterPosting, ReversalSink } from './types.js'

/**
 * Flows for the messages that report something already done or ask to undo it: 0400/0401 reversal
 * requests, 0420/0421 reversal advices, 0120/0121 advices of Visa stand-in (STIP) decisions. Small
 * pipelines in the same style as the authorisation's (ordered participants over one context), with their
 * own rules:
 *
 * - never shed: an advice must not be lost and a reversal releases the cardholder's money, so they skip
 *   the admission control of authorisations and are never answered with a decline for being late;
 * - advices (0420, 0120) are acknowledged 00 once the main cluster has them or they are durable in the
 *   store-and-forward queue; if neither is possible (card vault or Redis down) no answer is sent, so Visa
 *   repeats the advice (0421/0121) later;
 * - a reversal request (0400) gets 00, 25 (original not found) or, when the main cluster cannot be reached
 *   within the deadline, 91 — not remembered, so the acquirer's repeat is worked on again;
 * - duplicates: a retransmission within the window gets the stored answer; the main cluster is idempotent
 *   per reversalId/adviceId anyway, so a concurrent duplicate is simply worked on again.
 */

/** The processor's authorisation id of a Visa message: `visa:<acquirer>:<yyyymmdd>T<hhmmss>:<stan>`. */
export function authorizationIdFor(scheme: string, n: VisaNetworkKey): string {
  const t = n.transmissionTime.replace(/[^0-9]/g, '').slice(0, 14)
  return `${scheme}:${n.acquirerId}:${t.slice(0, 8)}T${t.slice(8)}:${n.stan}`
}

/** What the duplicate window keeps for a reversal or advice: the DE 39 answered, nothing else. */
export interface StoredAcknowledgement {
  de39: VisaResponseCode
  status: string
}

/** The context the reversal and advice participants share. */
export interface MessageContext {
  link: LinkConfig
  receivedAt: Date
  deadlineAt: number
  header: VisaHeader
  message: VisaMessage
  duplicateKey: string
  /** An advice (0420/0120): must be acknowledged 00, never declined. */
  advice: boolean
  ownsWindow?: boolean
  replay?: StoredAcknowledgement
  cardId?: string
  /** The answer (set by the last participant that ran). */
  answer?: StoredAcknowledgement & { remember: boolean }
  /** Nothing can be answered (the advice could not be made durable): Visa will repeat it. */
  unanswered?: string
  trail: { participant: string; outcome: 'continue' | 'respond' | 'failed'; ms: number }[]
}

type Outcome = 'continue' | 'respond'
interface MessageParticipant<C extends MessageContext> {
  readonly name: string
  run(ctx: C): Promise<Outcome>
}

interface ReversalContext extends MessageContext {
  reversal: VisaReversal
}

interface AdviceContext extends MessageContext {
  stip: VisaStandInAdvice
  request?: AuthorizationRequest
}

/** Events (ids and codes only). */
export interface MessageEvent {
  kind: 'reversal' | 'stand_in_advice' | 'queued' | 'unanswered' | 'participant_failed' | 'replayed'
  link: string
  id?: string
  participant?: string
  de39?: string
  code?: string
}

/** What the flows need. */
export interface NetworkMessageDeps {
  connector: VisaConnector
  duplicates: DuplicateWindow
  resolver: CardResolver
  verifier: CardVerifier
  mainCluster: MainClusterPosting
  store: AdviceSink & ReversalSink
  deadlineMs: number
  onEvent?: (e: MessageEvent) => void
  observe?: (participant: string, ms: number) => void
}

function remaining(ctx: MessageContext): number {
  return Math.max(1, ctx.deadlineAt - Date.now() - ANSWER_MARGIN_MS)
}

const ack = (de39: VisaResponseCode, status: string, remember = true): StoredAcknowledgement & { remember: boolean } => ({ de39, status, remember })

function codeOf(err: unknown): string {
  return (err as { code?: string }).code ?? (err as Error).name ?? 'error'
}

/** Duplicate check on the message's own DE 7 + 11 + 32 (namespaced apart from authorisations). */
function duplicateCheck<C extends MessageContext>(window: DuplicateWindow): MessageParticipant<C> {
  return {
    name: 'duplicate-check',
    async run(ctx) {
      const claim = await window.claim<StoredAcknowledgement>(ctx.duplicateKey, ctx.deadlineAt - ANSWER_MARGIN_MS)
      switch (claim.kind) {
        case 'owner':
          ctx.ownsWindow = true
          return 'continue'
        case 'answered':
          ctx.replay = claim.answer
          return 'respond'
        case 'in_flight':
          // The main cluster and the queue are idempotent by reversal/advice id: working on it again is safe.
          return 'continue'
      }
    },
  }
}

/** Card vault `POST /v1/resolve`: the reversal's PAN → card ID. */
function resolveCard(resolver: CardResolver): MessageParticipant<ReversalContext> {
  return {
    name: 'resolve-card',
    async run(ctx) {
      let cardId: string | undefined
      try {
        cardId = await withinDeadline(remaining(ctx), (ms) => resolver.resolve(ctx.reversal.envelope, ms))
      } catch (err) {
        // Without the card ID nothing can be posted or queued (the queue never holds a PAN).
        if (ctx.advice) ctx.unanswered = `card_vault:${codeOf(err)}`
        else ctx.answer = ack(VISA_DE39.issuerUnavailable, 'card_vault_unavailable', false)
        return 'respond'
      }
      if (!cardId) {
        // Not one of our cards: there is no authorisation of ours to reverse.
        ctx.answer = ctx.advice ? ack(VISA_DE39.approved, 'card_not_found') : ack(VISA_DE39.unableToLocateOriginal, 'card_not_found')
        return 'respond'
      }
      ctx.cardId = cardId
      return 'continue'
    },
  }
}

/** The unified reversal, once the card ID is known. */
export function reversalRequestOf(ctx: { link: LinkConfig; reversal: VisaReversal; cardId: string; receivedAt: Date }): ReversalRequest {
  const r = ctx.reversal
  const network: ReversalRequest['network'] = { scheme: ctx.link.scheme, stan: r.self.stan, transmissionTime: r.self.transmissionTime, acquirerId: r.self.acquirerId }
  if (r.rrn) network.rrn = r.rrn
  if (r.forwardingId) network.forwardingId = r.forwardingId
  if (r.schemeTransactionId) network.originalSchemeTransactionId = r.schemeTransactionId
  const out: ReversalRequest = {
    reversalId: `rev:${authorizationIdFor(ctx.link.scheme, r.self)}`,
    originalAuthorizationId: authorizationIdFor(ctx.link.scheme, r.original),
    cardId: ctx.cardId,
    kind: r.kind,
    reason: r.reason,
    advice: r.advice,
    network,
    receivedAt: ctx.receivedAt.toISOString(),
  }
  if (r.replacementAmount) out.replacementAmount = r.replacementAmount
  return out
}

/** Post the reversal; an advice the main cluster cannot take in time goes to the store-and-forward queue. */
function reverse(main: MainClusterPosting, store: ReversalSink, emit: (e: MessageEvent) => void): MessageParticipant<ReversalContext> {
  return {
    name: 'reverse',
    async run(ctx) {
      const reversal = reversalRequestOf({ link: ctx.link, reversal: ctx.reversal, cardId: ctx.cardId!, receivedAt: ctx.receivedAt })
      try {
        const result = await withinDeadline(remaining(ctx), (ms) => main.reverse(reversal, ms))
        if (result.status === 'original_not_found' && !ctx.advice) ctx.answer = ack(VISA_DE39.unableToLocateOriginal, result.status)
        else ctx.answer = ack(VISA_DE39.approved, result.status)
        return 'continue'
      } catch (err) {
        if (!ctx.advice) {
          ctx.answer = ack(VISA_DE39.issuerUnavailable, `main_cluster:${codeOf(err)}`, false)
          return 'continue'
        }
        try {
          await store.recordReversal(reversal)
        } catch (storeErr) {
          ctx.unanswered = `queue:${codeOf(storeErr)}`
          return 'respond'
        }
        emit({ kind: 'queued', link: ctx.link.name, id: reversal.reversalId, code: codeOf(err) })
        ctx.answer = ack(VISA_DE39.approved, 'queued')
        return 'continue'
      }
    },
  }
}

/** Card vault `POST /v1/verify` with PAN and expiry only: card ID, last four, program; nothing re-checked. */
function identifyCard(verifier: CardVerifier): MessageParticipant<AdviceContext> {
  return {
    name: 'identify-card',
    async run(ctx) {
      const { draft, envelope } = ctx.stip.auth
      const amount = draft.amounts.cardholderBilling
      let card
      try {
        card = await withinDeadline(remaining(ctx), (ms) => verifier.verify(envelope, { zpkName: ctx.link.zpkName, amountMinor: amount.minor, currency: amount.currency }, ms))
      } catch (err) {
        ctx.unanswered = `card_vault:${codeOf(err)}`
        return 'respond'
      }
      if (!card) {
        ctx.answer = ack(VISA_DE39.approved, 'card_not_found')
        return 'respond'
      }
      ctx.cardId = card.cardId
      const request: AuthorizationRequest = {
        ...draft,
        authorizationId: authorizationIdFor(ctx.link.scheme, ctx.stip.authorization),
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

/** The unified advice of a Visa STIP decision. */
export function standInAdviceOf(stip: VisaStandInAdvice, request: AuthorizationRequest): AuthorizationAdvice {
  const advice: AuthorizationAdvice = {
    adviceId: `stip:${request.authorizationId}`,
    source: 'scheme_stand_in',
    standInReason: stip.standInReason,
    outcome: stip.outcome,
    request,
    // Visa stood in right after the authorisation it could not get an answer for.
    standInAt: stip.authorization.transmissionTime,
  }
  if (stip.approvedAmount) advice.approvedAmount = stip.approvedAmount
  if (stip.reason) advice.reason = stip.reason
  return advice
}

/** Post the STIP advice; if the main cluster cannot take it in time, queue it. */
function postAdvice(main: MainClusterPosting, store: AdviceSink, emit: (e: MessageEvent) => void): MessageParticipant<AdviceContext> {
  return {
    name: 'post-advice',
    async run(ctx) {
      const advice = standInAdviceOf(ctx.stip, ctx.request!)
      try {
        const result = await withinDeadline(remaining(ctx), (ms) => main.advise(advice, ms))
        ctx.answer = ack(VISA_DE39.approved, result.status)
      } catch (err) {
        try {
          await store.record(advice)
        } catch (storeErr) {
          ctx.unanswered = `queue:${codeOf(storeErr)}`
          return 'respond'
        }
        emit({ kind: 'queued', link: ctx.link.name, id: advice.adviceId, code: codeOf(err) })
        ctx.answer = ack(VISA_DE39.approved, 'queued')
      }
      return 'continue'
    },
  }
}

/** What the link does after a reversal or advice (the authorisation pipeline's FrameResult shape). */
export type MessageResult = { action: 'answer'; frame: Buffer; de39: string; problem?: string } | { action: 'none'; problem: string }

/** The reversal and STIP advice flows. */
export class NetworkMessageFlows {
  private readonly deps: NetworkMessageDeps
  private readonly reversalSteps: MessageParticipant<ReversalContext>[]
  private readonly adviceSteps: MessageParticipant<AdviceContext>[]

  constructor(deps: NetworkMessageDeps) {
    this.deps = deps
    const emit = (e: MessageEvent): void => deps.onEvent?.(e)
    this.reversalSteps = [duplicateCheck(deps.duplicates), resolveCard(deps.resolver), reverse(deps.mainCluster, deps.store, emit)]
    this.adviceSteps = [duplicateCheck(deps.duplicates), identifyCard(deps.verifier), postAdvice(deps.mainCluster, deps.store, emit)]
  }

  private base(link: LinkConfig, header: VisaHeader, message: VisaMessage, receivedAt: Date, duplicateKey: string, advice: boolean): MessageContext {
    return { link, receivedAt, deadlineAt: receivedAt.getTime() + this.deps.deadlineMs, header, message, duplicateKey, advice, trail: [] }
  }

  /** A 0400/0401/0420/0421 from the connector. Never throws. */
  async reversal(link: LinkConfig, header: VisaHeader, message: VisaMessage, reversal: VisaReversal, receivedAt: Date): Promise<MessageResult> {
    const ctx: ReversalContext = { ...this.base(link, header, message, receivedAt, reversal.duplicateKey, reversal.advice), reversal }
    return this.run(ctx, this.reversalSteps, 'reversal', `rev:${authorizationIdFor(link.scheme, reversal.self)}`)
  }

  /** A 0120/0121 from the connector. Never throws. */
  async standInAdvice(link: LinkConfig, header: VisaHeader, message: VisaMessage, stip: VisaStandInAdvice, receivedAt: Date): Promise<MessageResult> {
    const ctx: AdviceContext = { ...this.base(link, header, message, receivedAt, stip.duplicateKey, true), stip }
    return this.run(ctx, this.adviceSteps, 'stand_in_advice', `stip:${authorizationIdFor(link.scheme, stip.authorization)}`)
  }

  private async run<C extends MessageContext>(ctx: C, steps: MessageParticipant<C>[], kind: 'reversal' | 'stand_in_advice', id: string): Promise<MessageResult> {
    const emit = (e: MessageEvent): void => this.deps.onEvent?.(e)
    for (const p of steps) {
      const started = performance.now()
      try {
        const outcome = await p.run(ctx)
        const ms = performance.now() - started
        ctx.trail.push({ participant: p.name, outcome, ms })
        this.deps.observe?.(p.name, ms)
        if (outcome === 'respond') break
      } catch (err) {
        const ms = performance.now() - started
        ctx.trail.push({ participant: p.name, outcome: 'failed', ms })
        this.deps.observe?.(p.name, ms)
        emit({ kind: 'participant_failed', link: ctx.link.name, id, participant: p.name, code: codeOf(err) })
        // An unexpected failure (Redis down in the duplicate check, a bug): an advice is not acknowledged
        // (Visa repeats it), a request gets 96.
        if (ctx.advice) ctx.unanswered = `${p.name}:${codeOf(err)}`
        else ctx.answer = ack(VISA_DE39.systemMalfunction, 'system_error', false)
        break
      }
    }
    if (ctx.replay) {
      emit({ kind: 'replayed', link: ctx.link.name, id, de39: ctx.replay.de39 })
      return this.answer(ctx, ctx.replay.de39)
    }
    if (ctx.unanswered || !ctx.answer) {
      const problem = ctx.unanswered ?? 'no_answer'
      if (ctx.ownsWindow) await this.deps.duplicates.release(ctx.duplicateKey).catch(() => undefined)
      emit({ kind: 'unanswered', link: ctx.link.name, id, code: problem })
      return { action: 'none', problem }
    }
    const answer = ctx.answer
    if (ctx.ownsWindow) {
      // A definitive answer is repeated to retransmissions; a 91/96 is not, so the repeat is worked on again.
      const stored: StoredAcknowledgement = { de39: answer.de39, status: answer.status }
      await (answer.remember ? this.deps.duplicates.publish(ctx.duplicateKey, stored) : this.deps.duplicates.release(ctx.duplicateKey)).catch((err: unknown) =>
        emit({ kind: 'participant_failed', link: ctx.link.name, id, participant: 'respond', code: codeOf(err) }),
      )
    }
    emit({ kind, link: ctx.link.name, id, de39: answer.de39, code: answer.status })
    return this.answer(ctx, answer.de39)
  }

  private answer(ctx: MessageContext, de39: VisaResponseCode): MessageResult {
    return { action: 'answer', frame: this.deps.connector.encodeResponse(ctx.header, acknowledgement(ctx.message, de39)), de39 }
  }
}
