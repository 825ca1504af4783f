import type { FastifyInstance } from 'fastify'
import { callVault, type CdeApiDeps } from './cde-forward.js'

const token = { type: 'string', pattern: '^rvl_[A-Za-z0-9_-]{43}$' } as const

/**
 * Redeeming sessions (proxy-public, for the cardholder's browser): `POST /v1/cde/reveal` returns PAN,
 * expiry and CVV2 once; `POST /v1/cde/pin` sets the chosen PIN (clear digits from the PIN-set page, or
 * a PIN block under a ZPK); `POST /v1/cde/pin-reveal` returns the PIN once. Tokens and PINs travel in
 * bodies, never URLs, and are not logged.
 */
export function registerCdeRedeem(app: FastifyInstance, deps: CdeApiDeps): void {
  for (const [path, vaultPath] of [
    ['/v1/cde/reveal', '/v1/sessions/reveal'],
    ['/v1/cde/pin-reveal', '/v1/sessions/pin-reveal'],
  ] as const) {
    app.post<{ Body: { token: string } }>(
      path,
      {
        config: { callers: ['proxy-public'] },
        schema: { body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token } } },
      },
      async (request, reply) => {
        const body = await callVault<unknown>(deps, { method: 'POST', path: vaultPath, body: { token: request.body.token } })
        return reply.header('cache-control', 'no-store').send(body)
      },
    )
  }
  app.post<{ Body: { token: string; pin: string | { zpkName: string; pinBlock: string; pinBlockFormat?: number } } }>(
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
            pin: {
              anyOf: [
                // Clear digits typed on the PIN-set page (the card vault checks length and strength).
                { type: 'string', maxLength: 16 },
                // A PIN block under a zone PIN key (PIN pads).
                {
                  type: 'object',
                  additionalProperties: false,
                  required: ['zpkName', 'pinBlock'],
                  properties: {
                    zpkName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
                    pinBlock: { type: 'string', pattern: '^[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?$' },
                    pinBlockFormat: { type: 'integer', minimum: 0, maximum: 4 },
                  },
                },
              ],
            },
          },
        },
      },
    },
    async (request, reply) => {
      const body = await callVault<unknown>(deps, { method: 'POST', path: '/v1/sessions/pin', body: request.body })
      return reply.header('cache-control', 'no-store').send(body)
    },
  )
}
