import type {
  AdviceResult,
  AuthorizationAdvice,
  AuthorizationRequest,
  Decision,
  DeclineReason,
  ReversalRequest,
  ReversalResult,
  StandInReason,
  VerificationResults,
} from '@cardplane/contracts'
import type { VisaAuthorization, VisaMessage } from '@cardplane/visa'
import type { VisaHeader } from '@cardplane/iso8583'
import type { SensitiveEnvelope } from '@cardplane/visa'

/** A scheme link as the processor knows it (config `PROCESSOR_LINKS`). */
export interface LinkConfig {
  /** Link name, as in the URL `/v1/links/:link/frames`. */
  name: string
  scheme: 'visa'
  /**
   * `process` (default): the authorisation pipeline. `passthrough`: the benchmark floor — the frame goes
   * through the same hops but is answered without decoding, card checks or a decision.
   */
  mode?: 'process' | 'passthrough'
  /** Name of the zone PIN key shared with the scheme on this link, in the key service. */
  zpkName: string
}

/** What the card vault answers to `POST /v1/verify` (never the PAN). */
export interface CardCheck {
  cardId: string
  lastFour: string
  programId?: string
  results: VerificationResults
  /** The card is past its expiry date (the expiry result alone cannot tell expired from wrong). */
  expired?: boolean
  /** ARPC (+ CSU) for chip: DE 55 tag 91. */
  arpc?: string
}

/** The card vault, as the pipeline needs it. */
export interface CardVerifier {
  /** Resolve and check the card; `undefined` when the PAN is not one of ours. */
  verify(envelope: SensitiveEnvelope, input: { zpkName: string; amountMinor: number; currency: string }, timeoutMs: number): Promise<CardCheck | undefined>
}

/** The main cluster's decision endpoint (through proxy-internal). */
export interface Decider {
  decide(request: AuthorizationRequest, timeoutMs: number): Promise<Decision>
}

/** Durable store-and-forward of stand-in advices. */
export interface AdviceSink {
  /** Record an advice for later delivery; resolves once it is durable. Same adviceId → stored once. */
  record(advice: AuthorizationAdvice): Promise<void>
}

/** Durable store-and-forward of reversal advices (0420) the main cluster could not take in time. */
export interface ReversalSink {
  /** Record a reversal for later delivery; resolves once it is durable. Same reversalId → stored once. */
  recordReversal(reversal: ReversalRequest): Promise<void>
}

/** The card vault's PAN → card ID lookup (no checks): `undefined` when the PAN is not one of ours. */
export interface CardResolver {
  resolve(envelope: SensitiveEnvelope, timeoutMs: number): Promise<string | undefined>
}

/** The main cluster's reversal and advice endpoints (through proxy-internal), bounded by a timeout. */
export interface MainClusterPosting {
  reverse(reversal: ReversalRequest, timeoutMs: number): Promise<ReversalResult>
  advise(advice: AuthorizationAdvice, timeoutMs: number): Promise<AdviceResult>
}

/** What the duplicate window keeps about an answered authorisation: the decision, never card data. */
export interface StoredAnswer {
  decision: Decision
  approvalCode?: string
  cvv2Result?: 'M' | 'N' | 'P'
  accountVerification?: boolean
}

/**
 * The shared context participants read and add to (jPOS TransactionManager style). The sensitive envelope
 * is reachable only through `inbound.auth.envelope` and dies with this object at the end of the request.
 */
export interface AuthContext {
  link: LinkConfig
  receivedAt: Date
  /** Epoch ms by which the answer must be on its way. */
  deadlineAt: number
  header: VisaHeader
  message: VisaMessage
  auth: VisaAuthorization
  authorizationId: string
  /** Set by the duplicate check: this is a retransmission, answer what was answered. */
  replay?: StoredAnswer
  /** True when this request owns the duplicate window entry (it must publish its answer). */
  ownsWindow?: boolean
  /** The card check when it started together with the duplicate check (no PIN: it changes nothing). */
  cardCheck?: Promise<CardCheck | undefined>
  card?: CardCheck
  request?: AuthorizationRequest
  decision?: Decision
  /** Set when the decision came from the processor's stand-in rules. */
  standIn?: StandInReason
  /** Error code behind the stand-in (for logs). */
  standInCause?: string
  approvalCode?: string
  /** Participants that ran, in order, with their outcome (for logs and tests; no values). */
  trail: { participant: string; outcome: 'continue' | 'respond' | 'failed'; ms: number }[]
}

/** What a participant tells the pipeline: go on, or stop and answer now (ctx.decision or ctx.replay set). */
export type ParticipantOutcome = 'continue' | 'respond'

/** One step of the pipeline. */
export interface Participant {
  readonly name: string
  run(ctx: AuthContext): Promise<ParticipantOutcome>
}

/** A decline decision taken inside the processor. */
export function processorDecline(ctx: AuthContext, reason: DeclineReason, source: Decision['source'] = 'issuer'): Decision {
  return { outcome: 'decline', reason, authorizationId: ctx.authorizationId, source, decidedAt: new Date().toISOString() }
}

export type { AuthorizationAdvice }
