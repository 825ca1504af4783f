/**
 * The proxy itself: one catch-all route. Every request is checked on what actually arrived (raw
 * request-target and raw header list), matched against the allowlist on the normalised path, then
 * forwarded with this proxy's own JWT-SVID and the original caller in `X-Cardplane-Caller`. Bodies
 * crossing towards the main cluster pass the PAN guard. Upstream redirects are refused, never followed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Pool } from 'undici'
import { Counter } from 'prom-client'
import type { JwtSvidSource } from '@cardplane/spiffe'
import { serviceByName } from '@cardplane/zones'
import { collectExchange, type CollectedAnswer } from '@cardplane/service-kit'
import { normaliseTarget } from '../domain/request-target.js'
import { checkHeaders, forwardableHeaders } from '../domain/header-check.js'
import { matchRoute, type ProxyRoute } from '../domain/route-table.js'
import { containsPan, maskedPans } from '../domain/pan-guard.js'

/** What the forwarding route needs. */
export interface ForwardDeps {
  routes: ProxyRoute[]
  /** This proxy's JWT-SVIDs (audience: the upstream's SPIFFE ID). */
  svids: JwtSvidSource
  /** Base URL of an upstream service by name. */
  upstreamUrl: (service: string) => string
  /** Accepted Host header values (lower case, host:port); read per request (the port is known after listen). */
  allowedHosts: () => string[]
  maxHeaderBytes: number
  maxHeaderCount: number
  /** Default request body limit (a route may set a smaller one). */
  maxBodyBytes: number
  maxResponseBytes: number
  timeoutMs: number
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
/** Headers the proxy always sets itself towards the upstream. */
const DROP_UPSTREAM = new Set(['host', 'authorization', 'content-length', 'x-request-id', 'expect'])
/** Response headers never passed back (the proxy's own server sets them). */
const DROP_DOWNSTREAM = new Set(['content-length', 'date', 'server', 'set-cookie'])

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the proxy's checks: the matched route and the normalised path to forward. */
    proxyMatch?: { route: ProxyRoute; path: string; query: string }
  }
}

async function refuse(request: FastifyRequest, reply: FastifyReply, status: number, code: string, counter: Counter<'code'>): Promise<FastifyReply> {
  counter.inc({ code })
  request.log.warn(
    { refusal: code, caller: request.caller?.service ?? null, method: request.method, target: request.raw.url?.slice(0, 256) },
    'proxy refused request',
  )
  return reply.code(status).header('cache-control', 'no-store').send({ error: { code, message: 'request refused by the proxy' } })
}

/** Register the proxy's checks and the catch-all forwarding route on a service app. */
export function registerForward(app: FastifyInstance, deps: ForwardDeps): void {
  const zoneMap = app.zoneMap
  const refusals = new Counter({
    name: 'proxy_refusals_total',
    help: 'Requests refused by the internal proxy, by refusal code.',
    labelNames: ['code'] as const,
    registers: [app.metrics.registry],
  })
  const panBlocks = new Counter({
    name: 'proxy_pan_guard_blocks_total',
    help: 'Bodies blocked by the PAN guard on their way to the main cluster.',
    labelNames: ['route', 'direction'] as const,
    registers: [app.metrics.registry],
  })
  const forwarded = new Counter({
    name: 'proxy_forwarded_total',
    help: 'Requests forwarded upstream, by route and upstream status.',
    labelNames: ['route', 'status_code'] as const,
    registers: [app.metrics.registry],
  })
  let allowedHosts = new Set<string>()
  let hostsFrom: string[] | undefined
  const callers = [...new Set(deps.routes.map((r) => r.caller))]
  const pools = new Map<string, Pool>()
  const poolFor = (service: string): Pool => {
    let pool = pools.get(service)
    if (!pool) {
      pool = new Pool(deps.upstreamUrl(service), { connections: 32, keepAliveTimeout: 30_000 })
      pools.set(service, pool)
    }
    return pool
  }
  app.addHook('onClose', async () => {
    await Promise.all([...pools.values()].map((p) => p.close()))
  })

  // Everything is a raw byte stream to the proxy: no JSON parsing, no content-type games.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes }, (_req, body, done) => {
    done(null, body)
  })

  app.route({
    method: [...METHODS],
    url: '/*',
    config: { callers },
    // Checks run before the body is read: a refused request never gets its body buffered.
    onRequest: async (request, reply) => {
      const hosts = deps.allowedHosts()
      if (hosts !== hostsFrom) {
        hostsFrom = hosts
        allowedHosts = new Set(hosts.map((h) => h.toLowerCase()))
      }
      const headerRefusal = checkHeaders(request.raw.rawHeaders, {
        allowedHosts,
        maxHeaderBytes: deps.maxHeaderBytes,
        maxHeaderCount: deps.maxHeaderCount,
      })
      if (headerRefusal) return refuse(request, reply, 400, headerRefusal, refusals)
      const target = normaliseTarget(request.raw.url ?? '')
      if (!target.ok) return refuse(request, reply, 400, target.code, refusals)
      const caller = request.caller?.service ?? ''
      const match = matchRoute(deps.routes, caller, request.method, target.target.path)
      if (!match.ok) {
        const status = match.code === 'route_method_not_allowed' ? 405 : match.code === 'route_not_found' ? 404 : 403
        return refuse(request, reply, status, match.code, refusals)
      }
      request.proxyMatch = { route: match.route, path: target.target.path, query: target.target.query }
      return undefined
    },
    handler: async (request, reply) => {
      const m = request.proxyMatch
      if (!m) return refuse(request, reply, 500, 'proxy_unmatched', refusals)
      const { route } = m
      const body = Buffer.isBuffer(request.body) ? request.body : undefined
      if (body && route.maxBodyBytes !== undefined && body.length > route.maxBodyBytes) {
        return refuse(request, reply, 413, 'body_too_large', refusals)
      }
      const callerGroup = request.caller?.group
      const upstream = serviceByName(zoneMap, route.upstream)
      // Direction of travel decides which body the PAN guard reads: towards group 0 only.
      if (upstream.group === 0 && body && containsPan(body)) {
        panBlocks.inc({ route: route.id, direction: 'request' })
        request.log.warn({ route: route.id, direction: 'request', masked: maskedPans(body) }, 'pan guard blocked a body')
        return refuse(request, reply, 403, 'pan_guard_blocked', refusals)
      }

      const svid = await deps.svids.fetchJwtSvid(upstream.spiffeId)
      const headers = forwardableHeaders(request.raw.rawHeaders, DROP_UPSTREAM)
      headers.authorization = `Bearer ${svid.token}`
      headers['x-cardplane-caller'] = request.caller?.spiffeId ?? ''
      headers['x-request-id'] = request.id
      const path = m.query === '' ? m.path : `${m.path}?${m.query}`
      let answer: CollectedAnswer
      try {
        answer = await collectExchange(
          poolFor(route.upstream),
          {
            method: request.method as (typeof METHODS)[number],
            path,
            headers,
            body: body && body.length > 0 ? body : null,
            headersTimeout: deps.timeoutMs,
            bodyTimeout: deps.timeoutMs,
          },
          { maxBytes: deps.maxResponseBytes },
        )
      } catch (err) {
        request.log.warn({ route: route.id, err: (err as { code?: string }).code ?? 'error' }, 'upstream unreachable')
        return refuse(request, reply, 502, 'upstream_unreachable', refusals)
      }
      // The exchange failed after the upstream's headers (its body cut short): a server error, not a 502.
      if (answer.error !== undefined) throw answer.error
      forwarded.inc({ route: route.id, status_code: String(answer.statusCode) })
      if (answer.statusCode >= 300 && answer.statusCode < 400) {
        return refuse(request, reply, 502, 'upstream_redirect_refused', refusals)
      }
      if (answer.tooLarge) return refuse(request, reply, 502, 'upstream_response_too_large', refusals)
      const out = answer.body
      if (callerGroup === 0 && containsPan(out)) {
        panBlocks.inc({ route: route.id, direction: 'response' })
        request.log.warn({ route: route.id, direction: 'response', masked: maskedPans(out) }, 'pan guard blocked a body')
        return refuse(request, reply, 502, 'pan_guard_blocked', refusals)
      }
      // The upstream's headers as they came (latin1, as undici decodes header values), filtered once.
      const raw = answer.rawHeaders.map((b) => b.toString('latin1'))
      for (const [name, value] of Object.entries(forwardableHeaders(raw, DROP_DOWNSTREAM))) void reply.header(name, value)
      return reply.code(answer.statusCode).send(out)
    },
  })
}
