/**
 * The HTTPS server cardholders' browsers reach (the internet-facing port of proxy-public, 8443 in the
 * zone map):
 * - `GET /reveal/:token` shows PAN, expiry and CVV2 once; `GET /reveal/:token.json` the same as JSON;
 * - `GET /pin/:token` the PIN-set form; `POST /pin/:token` (form post) sets it; `POST /pin/:token.json`
 *   takes `{ pin, confirm? }` or a PIN block `{ pinBlock, zpkName, pinBlockFormat? }` (PIN pads);
 * - `GET /pin-reveal/:token` shows the PIN once; `GET /pin-reveal/:token.json` the same as JSON.
 * Each redeeming request is one call to the processor's CDE API, which asks the card vault to redeem
 * the token once. Tokens and PINs are never logged: request logging is off, the one log line per
 * request names the route pattern only, and bodies are parsed here and passed on, never kept.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import type { ServiceClient } from '@cardplane/service-kit'
import { isCardplaneError } from '@cardplane/service-kit'
import { cardPage, gonePage, PIN_FORM_CSP, pinFormPage, pinRevealPage, pinSetPage, REVEAL_HEADERS, unavailablePage, type PinFormProblem, type RevealedCard } from './page.js'
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
    if (s === 404 || s === 400 || s === 409) return 404
  }
  return 502
}

/** The card vault's verdict on a chosen PIN (the session is still usable), if that is what failed. */
function pinProblem(err: unknown): PinFormProblem | undefined {
  if (!isCardplaneError(err)) return undefined
  const code = (err.context as { upstreamCode?: string }).upstreamCode
  return code === 'pin_weak' ? 'weak' : code === 'pin_format' ? 'format' : undefined
}

const PIN_DIGITS = /^[0-9]{4,12}$/

/** Build and start the HTTPS reveal server; returns it (close() stops it) and its URL. */
export async function startRevealServer(opts: RevealServerOptions): Promise<{ server: FastifyInstance; url: string }> {
  const log = opts.logger.child({ component: 'reveal' })
  // No Fastify logger, so Fastify writes no request lines of its own (a reveal URL carries its token): the
  // hook below logs the route pattern only. (`disableRequestLogging` said the same and is deprecated in Fastify 5.)
  const server = Fastify({
    https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' },
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

  // Plain HTML forms post urlencoded bodies; parsed here (4 KiB limit), never logged.
  server.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  const html = (reply: FastifyReply, status: number, page: string) => reply.code(status).type('text/html; charset=utf-8').send(page)

  server.get<{ Params: { token: string } }>('/pin/:token', async (req, reply) => {
    secure(reply).header('content-security-policy', PIN_FORM_CSP)
    if (!TOKEN.test(req.params.token)) return html(reply, 404, gonePage())
    // Showing the form does not touch the session; only a submitted PIN does.
    return html(reply, 200, pinFormPage(req.params.token))
  })

  server.post<{ Params: { token: string }; Body: Record<string, unknown> | undefined }>('/pin/:token', async (req, reply) => {
    const json = req.params.token.endsWith('.json')
    const token = json ? req.params.token.slice(0, -5) : req.params.token
    secure(reply)
    const b = req.body && typeof req.body === 'object' ? req.body : {}
    const refuse = (status: number, code: string, problem?: PinFormProblem) => {
      if (json) return reply.code(status).send({ error: { code } })
      if (problem) return html(reply.header('content-security-policy', PIN_FORM_CSP), 422, pinFormPage(token, problem))
      return html(reply, status, status === 404 ? gonePage() : unavailablePage())
    }
    if (!TOKEN.test(token)) return refuse(404, 'reveal_session_invalid')
    let pin: string | { zpkName: string; pinBlock: string; pinBlockFormat?: number }
    if (json && typeof b.pinBlock === 'string') {
      if (!/^[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?$/.test(b.pinBlock) || typeof b.zpkName !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(b.zpkName)) {
        return refuse(400, 'invalid_request')
      }
      const f = b.pinBlockFormat
      if (f !== undefined && !(Number.isInteger(f) && (f as number) >= 0 && (f as number) <= 4)) return refuse(400, 'invalid_request')
      pin = { zpkName: b.zpkName, pinBlock: b.pinBlock, ...(f !== undefined ? { pinBlockFormat: f as number } : {}) }
    } else {
      if (typeof b.pin !== 'string') return refuse(422, 'pin_format', 'format')
      // The two entries must agree before anything leaves the DMZ: a typo does not use the link up.
      if ((!json || b.confirm !== undefined) && b.confirm !== b.pin) return refuse(422, 'pin_mismatch', 'mismatch')
      if (!PIN_DIGITS.test(b.pin)) return refuse(422, 'pin_format', 'format')
      pin = b.pin
    }
    try {
      await opts.processor.request({ method: 'POST', path: '/v1/cde/pin', body: { token, pin } })
    } catch (err) {
      const problem = pinProblem(err)
      if (problem) return refuse(422, problem === 'weak' ? 'pin_weak' : 'pin_format', problem)
      const status = statusOf(err)
      if (status !== 404) log.warn({ code: isCardplaneError(err) ? err.code : 'error' }, 'PIN set upstream failed')
      return refuse(status, status === 404 ? 'reveal_session_invalid' : 'unavailable')
    }
    return json ? reply.send({ pinSet: true }) : html(reply, 200, pinSetPage())
  })

  server.get<{ Params: { token: string } }>('/pin-reveal/:token', async (req, reply) => {
    const json = req.params.token.endsWith('.json')
    const token = json ? req.params.token.slice(0, -5) : req.params.token
    secure(reply)
    if (!TOKEN.test(token)) return json ? reply.code(404).send({ error: { code: 'reveal_session_invalid' } }) : html(reply, 404, gonePage())
    try {
      const res = await opts.processor.request<{ pin: string }>({ method: 'POST', path: '/v1/cde/pin-reveal', body: { token } })
      return json ? reply.send({ pin: res.body.pin }) : html(reply, 200, pinRevealPage(res.body.pin))
    } catch (err) {
      const status = statusOf(err)
      if (status !== 404) log.warn({ code: isCardplaneError(err) ? err.code : 'error' }, 'PIN reveal upstream failed')
      if (json) return reply.code(status).send({ error: { code: status === 404 ? 'reveal_session_invalid' : 'unavailable' } })
      return html(reply, status, status === 404 ? gonePage() : unavailablePage())
    }
  })

  const address = await server.listen({ host: opts.host, port: opts.port })
  log.info({ url: address }, 'reveal page listening')
  return { server, url: address }
}
