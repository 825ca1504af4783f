import type { FastifyInstance } from 'fastify'
import { callVault, type CdeApiDeps } from './cde-forward.js'

const token = { type: 'string', pattern: '^rvl_[A-Za-z0-9_-]{43}$' } as const

/**
 * Redeeming sessions (proxy-public, for the cardholder's browser): `POST /v1/cde/reveal` returns PAN,
 * expiry and CVV2 once; `POST /v1/cde/pin` sets the chosen PIN (a PIN block under a ZPK). Tokens travel in bodies, never URLs.
 */
export function registerCdeRedeem(app: FastifyInstance, deps: CdeApiDeps): void {
  app.post<{ Body: { token: string } }>(
    '/v1/cde/reveal',
    {
      config: { callers: ['proxy-public'] },
      schema: { body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token } } },
    },
    async (request, reply) => {
      const card = await callVault<unknown>(deps, { method: 'POST', path: '/v1/sessions/reveal', body: { token: request.body.token } })
      return reply.header('cache-control', 'no-store').send(card)
    },
  )
  app.post<{ Body: { token: string; pin: { zpkName: string; pinBlock: string; pinBlockFormat?: number } } }>(
    '/v1/cde/pin',
    {
      config: { callers: ['proxy-public'] },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token', 'pin'],
          properties: {
            token,
            // The chosen PIN only ever travels as a PIN block under a zone PIN key.
            pin: {
              type: 'object',
              additionalProperties: false,
              required: ['zpkName', 'pinBlock'],
              properties: {
                zpkName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
                pinBlock: { type: 'string', pattern: '^[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?$' },
                pinBlockFormat: { type: 'integer', minimum: 0, maximum: 4 },
              },
            },
          },
        },
      },
    },
    async (request) => callVault<unknown>(deps, { method: 'POST', path: '/v1/sessions/pin', body: request.body }),
  )
}
