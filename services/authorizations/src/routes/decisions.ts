import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { AuthorizationAdvice, AuthorizationRequest, OpaqueId, ReversalRequest } from '@cardplane/contracts'
import { reportError } from '@cardplane/service-kit'
import type { AdviceService } from '../advice-service.js'
import type { ServiceContext } from '../context.js'
import type { DecisionService } from '../decision-service.js'
import { AuthorizationNotFoundError } from '../errors.js'
import type { ReversalService } from '../reversal-service.js'
import { findAuthorization } from '../store/authorizations-store.js'

const AuthorizationParams = Type.Object({ authorizationId: OpaqueId })

/** Most decisions in one `POST /v1/decisions/batch`. */
export const MAX_DECISIONS_PER_CALL = 64

const DecisionsBody = Type.Object(
  { requests: Type.Array(AuthorizationRequest, { minItems: 1, maxItems: MAX_DECISIONS_PER_CALL }) },
  { additionalProperties: false },
)
type DecisionsBody = Static<typeof DecisionsBody>
type AuthorizationParams = Static<typeof AuthorizationParams>

/** The processor's calls (through the internal proxy): decisions, advices, reversals. */
export function registerDecisionRoutes(
  app: FastifyInstance,
  ctx: ServiceContext,
  services: { decisions: Pick<DecisionService, 'decide'>; advices: AdviceService; reversals: ReversalService },
): void {
  app.post<{ Body: AuthorizationRequest }>(
    '/v1/decisions',
    { config: { callers: ['proxy-internal'] }, schema: { body: AuthorizationRequest } },
    async (request) => services.decisions.decide(request.body),
  )

  // Several decisions in one call (the processor under load): each goes its own way through the decision
  // batcher, exactly as if posted alone; one answer per request, in order, as { statusCode, body } with the
  // status and body `POST /v1/decisions` would have answered (a failure of one fails that one only).
  app.post<{ Body: DecisionsBody }>(
    '/v1/decisions/batch',
    { config: { callers: ['proxy-internal'] }, schema: { body: DecisionsBody } },
    async (request) => {
      const settled = await Promise.allSettled(request.body.requests.map((r) => services.decisions.decide(r)))
      return {
        results: settled.map((s) => {
          if (s.status === 'fulfilled') return { statusCode: 200, body: s.value }
          const { statusCode, body } = reportError(request, s.reason)
          return { statusCode, body }
        }),
      }
    },
  )

  app.post<{ Body: AuthorizationAdvice }>(
    '/v1/advices',
    { config: { callers: ['proxy-internal'] }, schema: { body: AuthorizationAdvice } },
    async (request) => services.advices.advise(request.body),
  )

  app.post<{ Body: ReversalRequest }>(
    '/v1/reversals',
    { config: { callers: ['proxy-internal'] }, schema: { body: ReversalRequest } },
    async (request) => services.reversals.reverse(request.body),
  )

  // Operations and the card's transaction view.
  app.get<{ Params: AuthorizationParams }>(
    '/v1/authorizations/:authorizationId',
    { config: { callers: ['console', 'cards'] }, schema: { params: AuthorizationParams } },
    async (request) => {
      const row = await findAuthorization(ctx.db, request.params.authorizationId)
      if (!row) throw new AuthorizationNotFoundError(request.params.authorizationId)
      return {
        authorizationId: row.authorizationId,
        cardId: row.cardId,
        messageClass: row.messageClass,
        source: row.source,
        outcome: row.outcome,
        reason: row.reason,
        requested: { minor: row.requestedMinor, currency: row.currency },
        approved: { minor: row.approvedMinor, currency: row.currency },
        reversed: { minor: row.reversedMinor, currency: row.currency },
        holdId: row.holdId,
        issuerOutcome: row.issuerOutcome,
        decision: row.decision,
        decidedAt: row.decidedAt.toISOString(),
      }
    },
  )
}
