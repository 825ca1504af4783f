import { createHash } from 'node:crypto'
import type { AuthorizationAdvice } from '@cardplane/contracts'
import { acknowledgement, authorizationResponse, VISA_DE39, type VisaConnector } from '@cardplane/visa'
import type { Redis } from 'ioredis'
import type { DuplicateWindow } from './duplicate-window.js'
import { authorizationIdFor, type NetworkMessageFlows } from './network-messages.js'
import { ANSWER_MARGIN_MS, cardAuthentication, decide, duplicateCheck, verifyCard, type VerifyCardParticipant } from './participants.js'
import { DeadlineError } from '@cardplane/service-kit'
import type { StandInRules } from './stand-in.js'
import { preciseNow, type StageTraceEntry } from './stage-trace.js'
import {
  processorDecline,
  type AdviceSink,
  type AuthContext,
  type CardVerifier,
  type Decider,
  type LinkConfig,
  type Participant,
  type StoredAnswer,
} from './types.js'

/** What to do with the link after a frame. */
export type FrameResult =
  | { action: 'answer'; frame: Buffer; de39?: string; problem?: string; standIn?: boolean }
  | { action: 'none'; problem?: string }
  | { action: 'close'; problem: string }

/** Everything the pipeline needs; tests pass real Redis and small in-process services. */
export interface PipelineDeps {
  connector: VisaConnector
  duplicates: DuplicateWindow
  verifier: CardVerifier
  decider: Decider
  advices: AdviceSink
  standInRules: StandInRules
  redis: Redis
  /** Redis key prefix for the processor's own keys. */
  redisPrefix: string
  /** Hard deadline from receipt to answer (ms). */
  deadlineMs: number
  /**
   * Authorisations in the pipeline at once (default unbounded). Past it, a new authorisation is shed: it
   * gets the duplicate check (a retransmission still gets its original answer) and then an immediate
   * `issuer_unavailable` (Visa 91), instead of queueing behind work it would wait for past its deadline.
   */
  maxInFlight?: number
  /**
   * Reversals (0400/0420) and Visa STIP advices (0120): their own flows, never shed. Without them such
   * messages are answered 12 (not supported).
   */
  messages?: NetworkMessageFlows
  /** Structured events without values (duplicate, stand-in, failures). */
  onEvent?: (event: PipelineEvent) => void
  /** Time spent in each participant and in `respond` (ms), for metrics. */
  observe?: (participant: string, ms: number) => void
  /** Every authorisation the pipeline worked on, with its participants' times (the stage trace). */
  trace?: (entry: StageTraceEntry) => void
}

/** Events for logs and metrics; never a PAN or SAD. */
export interface PipelineEvent {
  kind: 'answered' | 'participant_failed' | 'stand_in' | 'replayed' | 'frame_problem' | 'shed'
  link: string
  authorizationId?: string
  participant?: string
  de39?: string
  code?: string
}

/** Six-character approval code (DE 38), derived from the authorisation id so a replay repeats it. */
export function approvalCodeFor(authorizationId: string): string {
  const n = createHash('sha256').update(authorizationId).digest().readUInt32BE(0) % 1_000_000
  return String(n).padStart(6, '0')
}

/**
 * Authorisation id from the duplicate key parts: stable across retransmissions, unique across years.
 * The date and time are kept apart (`20261122T032013`): a 13-19 digit run could pass the Luhn check and
 * be taken for a PAN by the log scrubber and the internal proxy's PAN guard.
 */
export function authorizationIdOf(ctx: Pick<AuthContext, 'auth' | 'link'>): string {
  return authorizationIdFor(ctx.link.scheme, ctx.auth.draft.network)
}

function cvv2ResultOf(ctx: AuthContext): StoredAnswer['cvv2Result'] {
  switch (ctx.card?.results.cvv2) {
    case 'match':
      return 'M'
    case 'mismatch':
      return 'N'
    case 'not_checked':
      return 'P'
    default:
      return undefined
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}

/** Why an authorisation was answered without being worked on. */
export type ShedReason = 'late' | 'overload'

/**
 * The authorisation pipeline: parse → duplicate check → card vault → card authentication → decide →
 * respond. Each participant adds to the context or stops it with a decision; an exception in any of them
 * becomes a `system_error` decline. The response is always produced.
 */
export class AuthorizationPipeline {
  readonly participants: readonly Participant[]
  private readonly deps: PipelineDeps
  /** The first participant; a shed authorisation runs it alone. */
  private readonly duplicates: Participant
  private readonly verify: VerifyCardParticipant
  private inFlight = 0
  /** Authorisations answered without work, by reason (for metrics and tests). */
  readonly shed: Record<ShedReason, number> = { late: 0, overload: 0 }
  /** Answers being published to the duplicate window after their frame left (see respond). */
  private readonly publishing = new Set<Promise<void>>()

  constructor(deps: PipelineDeps) {
    this.deps = deps
    this.duplicates = duplicateCheck(deps.duplicates)
    this.verify = verifyCard(deps.verifier)
    this.participants = [
      this.duplicates,
      this.verify,
      cardAuthentication(),
      decide(deps.decider, deps.standInRules, deps.redis, deps.redisPrefix),
    ]
  }

  /** Handle one inbound frame (BASE I header + message) from a link. Never throws. */
  async handleFrame(link: LinkConfig, frame: Buffer, receivedAt = new Date()): Promise<FrameResult> {
    const emit = this.deps.onEvent ?? (() => undefined)
    const inbound = this.deps.connector.parse(frame, receivedAt)
    switch (inbound.kind) {
      case 'close':
        emit({ kind: 'frame_problem', link: link.name, code: inbound.problem })
        return { action: 'close', problem: inbound.problem }
      case 'answer':
        emit({ kind: 'frame_problem', link: link.name, code: inbound.problem, ...(inbound.de39 ? { de39: inbound.de39 } : {}) })
        return { action: 'answer', frame: inbound.response, problem: inbound.problem, ...(inbound.de39 ? { de39: inbound.de39 } : {}) }
      case 'network_management':
        return { action: 'answer', frame: inbound.response, de39: '00' }
      // Reversals and advices have their own flows; they are never shed (see network-messages.ts).
      case 'reversal':
        if (!this.deps.messages) return this.unsupported(inbound.header, inbound.request)
        return this.deps.messages.reversal(link, inbound.header, inbound.request, inbound.reversal, receivedAt)
      case 'stand_in_advice':
        if (!this.deps.messages) return this.unsupported(inbound.header, inbound.request)
        return this.deps.messages.standInAdvice(link, inbound.header, inbound.request, inbound.advice, receivedAt)
      case 'authorization':
        break
    }
    const base = { link, auth: inbound.auth }
    const ctx: AuthContext = {
      ...base,
      receivedAt,
      deadlineAt: receivedAt.getTime() + this.deps.deadlineMs,
      header: inbound.header,
      message: inbound.request,
      authorizationId: authorizationIdOf(base),
      trail: [],
    }
    // Admission: a frame that arrives already past its deadline (it queued before reaching us) or while the
    // pipeline is full is answered at once. The scheme has stood in or will: working on it only makes the
    // frames behind it late too.
    const shed: ShedReason | undefined =
      Date.now() >= ctx.deadlineAt - ANSWER_MARGIN_MS
        ? 'late'
        : this.deps.maxInFlight !== undefined && this.inFlight >= this.deps.maxInFlight
          ? 'overload'
          : undefined
    if (shed) return this.answerShed(ctx, shed)
    this.inFlight++
    try {
      return await this.work(ctx)
    } finally {
      this.inFlight--
    }
  }

  private unsupported(header: AuthContext['header'], request: AuthContext['message']): FrameResult {
    const frame = this.deps.connector.encodeResponse(header, acknowledgement(request, VISA_DE39.invalidTransaction))
    return { action: 'answer', frame, de39: VISA_DE39.invalidTransaction, problem: `unsupported_mti:${request.mti}` }
  }

  /** Wait for every answer still being published to the duplicate window (on shutdown, before Redis closes). */
  async settle(): Promise<void> {
    while (this.publishing.size > 0) await Promise.allSettled([...this.publishing])
  }

  /** Authorisations in the pipeline now. */
  get inFlightCount(): number {
    return this.inFlight
  }

  /** Only the duplicate check, then `issuer_unavailable`; the answer is published like any other. */
  private async answerShed(ctx: AuthContext, reason: ShedReason): Promise<FrameResult> {
    this.shed[reason]++
    ;(this.deps.onEvent ?? (() => undefined))({ kind: 'shed', link: ctx.link.name, authorizationId: ctx.authorizationId, code: reason })
    const check = this.duplicates
    try {
      if ((await check.run(ctx)) === 'continue') ctx.decision = processorDecline(ctx, 'issuer_unavailable')
    } catch {
      ctx.decision = processorDecline(ctx, 'issuer_unavailable')
    }
    return this.respond(ctx)
  }

  private async work(ctx: AuthContext): Promise<FrameResult> {
    const emit = this.deps.onEvent ?? (() => undefined)
    const link = ctx.link
    const observe = this.deps.observe
    const trace = this.deps.trace
    const startedAt = trace ? preciseNow() : 0
    // An effect-free card check runs alongside the duplicate check (participants.ts, VerifyCardParticipant).
    this.verify.start(ctx)
    for (const p of this.participants) {
      const started = performance.now()
      try {
        const outcome = await p.run(ctx)
        const ms = performance.now() - started
        ctx.trail.push({ participant: p.name, outcome, ms })
        observe?.(p.name, ms)
        if (outcome === 'respond') break
      } catch (err) {
        const ms = performance.now() - started
        ctx.trail.push({ participant: p.name, outcome: 'failed', ms })
        observe?.(p.name, ms)
        emit({ kind: 'participant_failed', link: link.name, authorizationId: ctx.authorizationId, participant: p.name, code: (err as { code?: string }).code ?? (err as Error).name })
        // Out of time is not a malfunction: the scheme should stand in (91), not report an error (96).
        ctx.decision = processorDecline(ctx, err instanceof DeadlineError ? 'issuer_unavailable' : 'system_error')
        break
      }
    }
    const started = performance.now()
    const result = await this.respond(ctx)
    const respondMs = performance.now() - started
    observe?.('respond', respondMs)
    if (trace) {
      const stages: Record<string, number> = {}
      for (const step of ctx.trail) stages[step.participant] = round3(step.ms)
      stages.respond = round3(respondMs)
      trace({ key: ctx.auth.duplicateKey, edgeAt: ctx.receivedAt.getTime(), startedAt: round3(startedAt), stages, answeredAt: round3(preciseNow()) })
    }
    return result
  }

  private async respond(ctx: AuthContext): Promise<FrameResult> {
    const emit = this.deps.onEvent ?? (() => undefined)
    let answer: StoredAnswer
    if (ctx.replay) {
      answer = ctx.replay
      emit({ kind: 'replayed', link: ctx.link.name, authorizationId: ctx.authorizationId })
    } else {
      const decision = ctx.decision ?? processorDecline(ctx, 'system_error')
      answer = { decision, accountVerification: ctx.auth.draft.messageClass === 'account_verification' }
      if (decision.outcome !== 'decline') answer.approvalCode = approvalCodeFor(ctx.authorizationId)
      const cvv2 = cvv2ResultOf(ctx)
      if (cvv2) answer.cvv2Result = cvv2
    }
    const { message, de39 } = authorizationResponse(ctx.message, {
      ...answer,
      // The ARPC is computed for this request only; replays go without it (it is never stored).
      // It carries an approval's ARC/CSU (computed with the card checks, before the decision), so it goes out
      // with approvals only: a declined chip card finds no issuer authentication data and declines.
      ...(ctx.card?.arpc && !ctx.replay && answer.decision.outcome !== 'decline' ? { issuerAuthenticationData: ctx.card.arpc } : {}),
    })
    const frame = this.deps.connector.encodeResponse(ctx.header, message)
    const failed = (code: string | undefined): void =>
      emit({ kind: 'participant_failed', link: ctx.link.name, authorizationId: ctx.authorizationId, participant: 'respond', code: code ?? 'record_failed' })
    // The answer for retransmissions is published while the frame goes out, not before it: until it lands,
    // a retransmission finds the pending claim and waits on it (duplicate-window.ts), so it still gets this
    // answer. Were the process to die in between, the claim expires and a later retransmission is decided
    // again: the main cluster replays its decision for the same authorisation id, with no second hold.
    // Waiting for it here put a Redis round trip on every authorisation's clock (~3-5 ms at 500/s).
    if (ctx.ownsWindow) {
      const publishing: Promise<void> = this.deps.duplicates
        .publish(ctx.auth.duplicateKey, answer)
        .catch((err: unknown) => failed((err as { code?: string }).code))
        .finally(() => this.publishing.delete(publishing))
      this.publishing.add(publishing)
    }
    if (ctx.standIn && ctx.request) {
      const d = answer.decision
      const advice: AuthorizationAdvice = {
        adviceId: `si:${ctx.authorizationId}`,
        source: 'processor_stand_in',
        standInReason: ctx.standIn,
        outcome: d.outcome,
        request: ctx.request,
        standInAt: d.decidedAt,
      }
      if (d.outcome !== 'decline') advice.approvedAmount = d.approvedAmount
      else advice.reason = d.reason
      emit({ kind: 'stand_in', link: ctx.link.name, authorizationId: ctx.authorizationId, de39, ...(ctx.standInCause ? { code: ctx.standInCause } : {}) })
      // A stand-in the scheme has seen must already be durable: the advice is recorded before the frame leaves.
      try {
        await this.deps.advices.record(advice)
      } catch (err) {
        failed((err as { code?: string }).code)
      }
    }
    emit({ kind: 'answered', link: ctx.link.name, authorizationId: ctx.authorizationId, de39 })
    return { action: 'answer', frame, de39, ...(ctx.standIn ? { standIn: true } : {}) }
  }
}
