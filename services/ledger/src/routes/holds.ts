import type { FastifyInstance } from 'fastify'
import type { LedgerStore } from '../store/ledger-store.js'
import { CaptureBody, HoldParams, HoldQuery, IncrementBody, PlaceHoldBody, ReleaseBody } from './schemas.js'

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
