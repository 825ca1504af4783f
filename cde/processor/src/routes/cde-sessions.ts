import type { FastifyInstance } from 'fastify'
import { callVault, requireRelayedCaller, type CdeApiDeps } from './cde-forward.js'

const params = { type: 'object', required: ['cardId'], properties: { cardId: { type: 'string', pattern: '^card_[0-9a-z]{26}$' } } } as const

/**
 * Session creation (cards via proxy-internal): `POST /v1/cde/cards/:cardId/reveal-sessions`,
 * `.../pin-sessions` (PIN set) and `.../pin-reveal-sessions` answer a one-time token the cardholder's
 * browser redeems at proxy-public.
 */
export function registerCdeSessions(app: FastifyInstance, deps: CdeApiDeps): void {
  for (const [suffix, kind] of [
    ['reveal-sessions', 'card'],
    ['pin-sessions', 'pin_set'],
    ['pin-reveal-sessions', 'pin_reveal'],
  ] as const) {
    app.post<{ Params: { cardId: string } }>(
      `/v1/cde/cards/:cardId/${suffix}`,
      { config: { callers: ['proxy-internal'] }, schema: { params } },
      async (request, reply) => {
        requireRelayedCaller(request, deps.zoneMap, 'cards')
        const body = await callVault<{ token: string; expiresAt: string }>(deps, {
          method: 'POST',
          path: `/v1/cards/${request.params.cardId}/sessions`,
          body: { kind },
        })
        return reply.code(201).header('cache-control', 'no-store').send({ ...body, kind })
      },
    )
  }
}
