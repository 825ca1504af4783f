/**
 * The HTTPS server cardholders' browsers reach (the internet-facing port of proxy-public, 8443 in the
 * zone map). `GET /reveal/:token` shows PAN, expiry and CVV2 once; `GET /reveal/:token.json` is the
 * same for machine clients; `POST /pin/:token.json` sets a PIN given as a PIN block under a ZPK
 * (PIN pads, never a clear PIN). Each request is one call to the processor's CDE API, which asks the
 * card vault to redeem the token once. Tokens are never logged: request logging is off and the one log
 * line per request names the route pattern only.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import type { ServiceClient } from '@cardplane/service-kit'
import { isCardplaneError } from '@cardplane/service-kit'
import { cardPage, gonePage, REVEAL_HEADERS, type RevealedCard } from './page.js'
import type { TlsMaterial } from './certificate.js'

/** Options of the reveal server. */
export interface RevealServerOptions {
  host: string
  port: number
  tls: TlsMaterial
  /** Client of the processor (this proxy's JWT-SVID). */
  processor: ServiceClient
  logger: FastifyBaseLogger
}

const TOKEN = /^rvl_[A-Za-z0-9_-]{43}$/

function secure(reply: FastifyReply): FastifyReply {
  for (const [k, v] of Object.entries(REVEAL_HEADERS)) void reply.header(k, v)
  return reply
}

/** Status of an upstream refusal (404 for used/unknown tokens), 502 for anything else. */
function statusOf(err: unknown): number {
  if (isCardplaneError(err)) {
    const s = (err.context as { statusCode?: number }).statusCode
    if (s === 404 || s === 400) return 404
  }
  return 502
}

/** Build and start the HTTPS reveal server; returns it (close() stops it) and its URL. */
export async function startRevealServer(opts: RevealServerOptions): Promise<{ server: FastifyInstance; url: string }> {
  const log = opts.logger.child({ component: 'reveal' })
  const server = Fastify({
    https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' },
    disableRequestLogging: true,
    bodyLimit: 4096,
  })
  server.addHook('onResponse', async (req, reply) => {
    log.info({ route: req.routeOptions.url ?? 'unmatched', method: req.method, status: reply.statusCode }, 'reveal request')
  })
  server.setNotFoundHandler(async (_req, reply) => secure(reply).code(404).type('text/html; charset=utf-8').send(gonePage()))

  server.get<{ Params: { token: string } }>('/reveal/:token', async (req, reply) => {
    const json = req.params.token.endsWith('.json')
    const token = json ? req.params.token.slice(0, -5) : req.params.token
    secure(reply)
    if (!TOKEN.test(token)) return json ? reply.code(404).send({ error: { code: 'reveal_session_invalid' } }) : reply.code(404).type('text/html; charset=utf-8').send(gonePage())
    try {
      const res = await opts.processor.request<RevealedCard>({ method: 'POST', path: '/v1/cde/reveal', body: { token } })
      const c = res.body
      if (json) return reply.send({ pan: c.pan, expiryMonth: c.expiryMonth, expiryYear: c.expiryYear, cvv2: c.cvv2, ...(c.cardholderName ? { cardholderName: c.cardholderName } : {}) })
      return reply.type('text/html; charset=utf-8').send(cardPage(c))
    } catch (err) {
      const status = statusOf(err)
      if (status !== 404) log.warn({ code: isCardplaneError(err) ? err.code : 'error' }, 'reveal upstream failed')
      if (json) return reply.code(status).send({ error: { code: status === 404 ? 'reveal_session_invalid' : 'unavailable' } })
      return reply.code(status).type('text/html; charset=utf-8').send(gonePage())
    }
  })

  server.post<{ Params: { token: string }; Body: { pinBlock: string; zpkName: string; pinBlockFormat?: number } }>(
    '/pin/:token',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['pinBlock', 'zpkName'],
          properties: {
            pinBlock: { type: 'string', pattern: '^[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?$' },
            zpkName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
            pinBlockFormat: { type: 'integer', minimum: 0, maximum: 4 },
          },
        },
      },
    },
    async (req, reply) => {
      secure(reply)
      const token = req.params.token.replace(/\.json$/, '')
      if (!TOKEN.test(token)) return reply.code(404).send({ error: { code: 'reveal_session_invalid' } })
      try {
        await opts.processor.request({ method: 'POST', path: '/v1/cde/pin', body: { token, pin: req.body } })
        return reply.send({ pinSet: true })
      } catch (err) {
        const status = statusOf(err)
        return reply.code(status).send({ error: { code: status === 404 ? 'reveal_session_invalid' : 'unavailable' } })
      }
    },
  )

  const address = await server.listen({ host: opts.host, port: opts.port })
  log.info({ url: address }, 'reveal page listening')
  return { server, url: address }
}
