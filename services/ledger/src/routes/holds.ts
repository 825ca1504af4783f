import type { FastifyInstance } from 'fastify'
import { mapError, reportError } from '@cardplane/service-kit'
import type { LedgerStore } from '../store/ledger-store.js'
import { CaptureBody, HoldParams, HoldQuery, IncrementBody, PlaceHoldBody, PlaceHoldsBody, ReleaseBody } from './schemas.js'

/** Holds: place (idempotent per authorizationId), read, increment, release, capture. */
export function registerHoldRoutes(app: FastifyInstance, store: LedgerStore): void {
  // 201 when this call placed the hold; 200 for replays and for insufficient funds (no hold).
  app.post<{ Body: PlaceHoldBody }>(
    '/v1/holds',
    { config: { callers: ['authorizations'] }, schema: { body: PlaceHoldBody } },
    async (request, reply) => {
      const result = await store.placeHold(request.body)
      return reply.code(result.hold && !result.replayed ? 201 : 200).send(result)
    },
  )

  // Several holds in one call (the authorizations service's decision batches): one outcome per hold, in
  // order, each what `POST /v1/holds` would have answered for it (an error as its status and error body).
  // A failure of the call as a whole (the database down) is the usual error answer.
  app.post<{ Body: PlaceHoldsBody }>(
    '/v1/holds/batch',
    { config: { callers: ['authorizations'] }, schema: { body: PlaceHoldsBody } },
    async (request) => {
      const outcomes = await store.placeHolds(request.body.holds)
      return {
        results: outcomes.map((o) => {
          if (o.ok) return { statusCode: o.value.hold && !o.value.replayed ? 201 : 200, body: o.value }
          // A server error fails the call as a whole (the error handler answers it).
          if (mapError(o.error).statusCode >= 500) throw o.error
          const { statusCode, body } = reportError(request, o.error)
          return { statusCode, body }
        }),
      }
    },
  )

  // Lookup by the authorisation that placed the hold (reconciliation after a lost answer).
  app.get<{ Querystring: HoldQuery }>(
    '/v1/holds',
    { config: { callers: ['authorizations', 'console'] }, schema: { querystring: HoldQuery } },
    async (request) => {
      const hold = await store.findHoldByAuthorization(request.query.authorizationId)
      return { holds: hold ? [hold] : [] }
    },
  )

  app.get<{ Params: HoldParams }>(
    '/v1/holds/:holdId',
    { config: { callers: ['authorizations', 'console'] }, schema: { params: HoldParams } },
    async (request) => store.getHold(request.params.holdId),
  )

  app.post<{ Params: HoldParams; Body: IncrementBody }>(
    '/v1/holds/:holdId/increments',
    { config: { callers: ['authorizations'] }, schema: { params: HoldParams, body: IncrementBody } },
    async (request) => store.incrementHold({ holdId: request.params.holdId, ...request.body }),
  )

  app.post<{ Params: HoldParams; Body: ReleaseBody }>(
    '/v1/holds/:holdId/releases',
    { config: { callers: ['authorizations', 'console'] }, schema: { params: HoldParams, body: ReleaseBody } },
    async (request) => store.releaseHold({ holdId: request.params.holdId, ...request.body }),
  )

  app.post<{ Params: HoldParams; Body: CaptureBody }>(
    '/v1/holds/:holdId/captures',
    { config: { callers: ['authorizations', 'console'] }, schema: { params: HoldParams, body: CaptureBody } },
    async (request) => store.captureHold({ holdId: request.params.holdId, ...request.body }),
  )
}
