import type { FastifyInstance } from 'fastify'
import type { CardVault, PinSetInput, SessionKind } from '../vault/card-vault.js'
import { cardIdParams, pinSchema, tokenBody } from './schemas.js'

const token = { type: 'string', maxLength: 100 } as const

/**
 * One-time sessions: create (`card` reveal, `pin_set`, `pin_reveal`), redeem a card reveal (PAN,
 * expiry, CVV2 once), a PIN set (clear digits from the PIN-set page, or a PIN block under a ZPK) and a
 * PIN reveal (the PIN once). Tokens travel in bodies, never in URLs, so no access log can hold one;
 * PIN events are logged with the card ID only.
 */
export function registerSessions(app: FastifyInstance, vault: CardVault): void {
  app.post<{ Params: { cardId: string }; Body: { kind?: SessionKind } }>(
    '/v1/cards/:cardId/sessions',
    {
      config: { callers: ['processor'] },
      schema: {
        params: cardIdParams,
        body: { type: 'object', additionalProperties: false, properties: { kind: { enum: ['card', 'pin_set', 'pin_reveal'] } } },
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

  app.post<{ Body: { token: string; pin: string | { zpkName: string; pinBlock: string; pinBlockFormat?: number } } }>(
    '/v1/sessions/pin',
    {
      config: { callers: ['processor'] },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token', 'pin'],
          properties: {
            token,
            // Clear digits (length and strength are the vault's answer, pin_format / pin_weak) or a PIN block.
            pin: { anyOf: [{ type: 'string', maxLength: 16 }, { ...pinSchema, required: ['zpkName', 'pinBlock'] }] },
          },
        },
      },
    },
    async (request) => {
      const p = request.body.pin
      const input: PinSetInput =
        typeof p === 'string' ? { pin: p } : { zpkName: p.zpkName, pinBlock: p.pinBlock, pinBlockFormat: p.pinBlockFormat ?? 0 }
      const r = await vault.redeemPinSet(request.body.token, input)
      request.log.info({ event: 'pin_set', cardId: r.cardId, via: typeof p === 'string' ? 'page' : 'pin_block' }, 'PIN set through a session')
      return { cardId: r.cardId, pinSet: true }
    },
  )

  app.post<{ Body: { token: string } }>(
    '/v1/sessions/pin-reveal',
    { config: { callers: ['processor'] }, schema: { body: tokenBody } },
    async (request, reply) => {
      const r = await vault.redeemPinReveal(request.body.token)
      request.log.info({ event: 'pin_revealed', cardId: r.cardId }, 'PIN shown through a session')
      return reply.header('cache-control', 'no-store').send(r)
    },
  )
}
