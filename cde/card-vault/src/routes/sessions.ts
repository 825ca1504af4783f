import type { FastifyInstance } from 'fastify'
import type { CardVault } from '../vault/card-vault.js'
import { cardIdParams, pinSchema, tokenBody } from './schemas.js'

/**
 * One-time sessions: create (`card` reveal or `pin_set`), redeem a reveal (PAN, expiry, CVV2 once),
 * redeem a PIN set. Tokens travel in bodies, never in URLs, so no access log can hold one.
 */
export function registerSessions(app: FastifyInstance, vault: CardVault): void {
  app.post<{ Params: { cardId: string }; Body: { kind?: 'card' | 'pin_set' } }>(
    '/v1/cards/:cardId/sessions',
    {
      config: { callers: ['processor'] },
      schema: {
        params: cardIdParams,
        body: { type: 'object', additionalProperties: false, properties: { kind: { enum: ['card', 'pin_set'] } } },
      },
    },
    async (request, reply) => {
      const s = await vault.createSession(request.params.cardId, request.body.kind ?? 'card')
      return reply.code(201).send({ token: s.token, expiresAt: s.expiresAt.toISOString() })
    },
  )

  app.post<{ Body: { token: string } }>(
    '/v1/sessions/reveal',
    { config: { callers: ['processor'] }, schema: { body: tokenBody } },
    async (request, reply) => {
      const card = await vault.redeemReveal(request.body.token)
      return reply.header('cache-control', 'no-store').send(card)
    },
  )

  app.post<{ Body: { token: string; pin: { zpkName: string; pinBlock: string; pinBlockFormat?: number } } }>(
    '/v1/sessions/pin',
    {
      config: { callers: ['processor'] },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token', 'pin'],
          properties: { token: { type: 'string', maxLength: 100 }, pin: { ...pinSchema, required: ['zpkName', 'pinBlock'] } },
        },
      },
    },
    async (request) => {
      const { zpkName, pinBlock, pinBlockFormat } = request.body.pin
      return vault.redeemPinSet(request.body.token, { zpkName, pinBlock, pinBlockFormat: pinBlockFormat ?? 0 })
    },
  )
}
