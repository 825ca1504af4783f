import type { FastifyInstance } from 'fastify'
import { callVault, requireRelayedCaller, type CdeApiDeps } from './cde-forward.js'

const params = { type: 'object', required: ['cardId'], properties: { cardId: { type: 'string', pattern: '^card_[0-9a-z]{26}$' } } } as const

/** `GET /v1/cde/cards/:cardId` (cards via proxy-internal): card ID, last four, BIN, expiry, CDE status. */
export function registerCdeGetCard(app: FastifyInstance, deps: CdeApiDeps): void {
  app.get<{ Params: { cardId: string } }>(
    '/v1/cde/cards/:cardId',
    { config: { callers: ['proxy-internal'] }, schema: { params } },
    async (request) => {
      requireRelayedCaller(request, deps.zoneMap, 'cards')
      return callVault<unknown>(deps, { method: 'GET', path: `/v1/cards/${request.params.cardId}` })
    },
  )
}
