import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { groupsAdjacent, serviceByName, serviceBySpiffeId, type GroupId, type ZoneMap, type ZoneService } from '@cardplane/zones'
import { JwtSvidError } from './jwt-svid-error.js'
import type { JwtBundleSource } from './types.js'
import { validateJwtSvid } from './validate-jwt-svid.js'

/** The authenticated caller of a request, set by {@link spiffeAuth}. */
export interface SpiffeCaller {
  spiffeId: string
  /** Service name from the zone map. */
  service: string
  group: GroupId
}

/** Per-route declaration, read from the route's `config`. */
export interface SpiffeRouteConfig {
  /** Service names (from the zone map) allowed to call this route. */
  callers?: readonly string[]
  /** No caller identity required (health, metrics, vault-token routes). */
  public?: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig extends SpiffeRouteConfig {}
  interface FastifyRequest {
    /** Set by spiffeAuth on every non-public route that let the request through. */
    caller?: SpiffeCaller
  }
}

/** Options for {@link spiffeAuth}. */
export interface SpiffeAuthOptions {
  /** The service this app is: its SPIFFE ID is the audience every token must carry. */
  self: ZoneService
  zoneMap: ZoneMap
  bundles: Pick<JwtBundleSource, 'getBundle'>
  /** Leeway for exp/nbf/iat in seconds (default 30). */
  clockToleranceSec?: number
}

/** Why a request was refused with 403. */
export type SpiffeForbiddenCode =
  | 'caller_unknown'
  | 'route_no_callers'
  | 'caller_not_allowed'
  | 'caller_zone_not_adjacent'

/** Thrown at route registration when a route's declaration is malformed (a wiring bug, fail fast). */
export class SpiffeRouteConfigError extends Error {
  readonly code = 'spiffe_route_config_invalid'
  constructor(message: string) {
    super(message)
    this.name = 'SpiffeRouteConfigError'
  }
}

// The auth scheme name is case-insensitive (RFC 7235); the token itself is a compact JWS.
const BEARER_RE = /^bearer +([A-Za-z0-9._-]+) *$/i

function routeLabel(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? '(no route)'}`
}

async function refuse(
  request: FastifyRequest,
  reply: FastifyReply,
  status: 401 | 403,
  reason: string,
  message: string,
  caller?: string,
): Promise<void> {
  request.log.warn({ caller: caller ?? null, route: routeLabel(request), reason, status }, 'spiffe auth refused')
  if (status === 401) void reply.header('www-authenticate', 'Bearer')
  await reply.code(status).send({ error: { code: reason, message } })
}

const plugin: FastifyPluginAsync<SpiffeAuthOptions> = async (app, opts) => {
  const { self, zoneMap, bundles } = opts
  if (!zoneMap.services.some((s) => s.spiffeId === self.spiffeId)) {
    throw new SpiffeRouteConfigError(`service ${self.name} is not in the zone map`)
  }

  app.decorateRequest('caller', undefined)

  app.addHook('onRoute', (route) => {
    const cfg = (route.config ?? {}) as SpiffeRouteConfig
    if (cfg.public === true && cfg.callers !== undefined) {
      throw new SpiffeRouteConfigError(`${route.method} ${route.url}: a route is either public or lists callers`)
    }
    if (cfg.callers !== undefined) {
      if (!Array.isArray(cfg.callers)) throw new SpiffeRouteConfigError(`${route.method} ${route.url}: callers must be a list`)
      // Unknown names are typos and fail here; a non-adjacent name is allowed to register but is refused
      // at request time, so a mistaken allowlist can never open a path the zone rule forbids.
      for (const name of cfg.callers) serviceByName(zoneMap, name)
    }
  })

  app.addHook('onRequest', async (request, reply) => {
    const cfg = request.routeOptions.config as SpiffeRouteConfig
    if (cfg.public === true) return

    const header = request.headers.authorization
    if (typeof header !== 'string' || header.trim() === '') {
      await refuse(request, reply, 401, 'jwt_missing_token', 'a JWT-SVID bearer token is required')
      return reply
    }
    const match = BEARER_RE.exec(header)
    if (!match?.[1]) {
      await refuse(request, reply, 401, 'jwt_malformed', 'authorization must be Bearer <JWT-SVID>')
      return reply
    }
    let spiffeId: string
    try {
      const result = await validateJwtSvid(match[1], {
        audience: self.spiffeId,
        trustDomain: zoneMap.trustDomain,
        bundles,
        ...(opts.clockToleranceSec !== undefined ? { clockToleranceSec: opts.clockToleranceSec } : {}),
      })
      spiffeId = result.spiffeId
    } catch (err) {
      if (!(err instanceof JwtSvidError)) throw err
      await refuse(request, reply, 401, err.code, 'the JWT-SVID was refused')
      return reply
    }

    const caller = serviceBySpiffeId(zoneMap, spiffeId)
    if (!caller) {
      await refuse(request, reply, 403, 'caller_unknown', 'caller is not a known service', spiffeId)
      return reply
    }
    // Unmatched URLs: authenticated callers get the normal 404 rather than a 403 that would say nothing.
    if (request.is404) return
    if (cfg.callers === undefined) {
      await refuse(request, reply, 403, 'route_no_callers', 'this route accepts no callers', spiffeId)
      return reply
    }
    if (!cfg.callers.includes(caller.name)) {
      await refuse(request, reply, 403, 'caller_not_allowed', 'caller is not allowed on this route', spiffeId)
      return reply
    }
    if (!groupsAdjacent(caller.group, self.group)) {
      await refuse(request, reply, 403, 'caller_zone_not_adjacent', 'caller zone may not reach this service', spiffeId)
      return reply
    }
    request.caller = { spiffeId, service: caller.name, group: caller.group }
  })
}

/**
 * Fastify plugin: every route declares `config: { callers: [...] }` or `config: { public: true }`;
 * undeclared routes refuse everyone (403). Missing or invalid JWT-SVIDs get 401. A caller whose group
 * is not adjacent to this service's group is refused with 403 even when a route names it.
 */
export const spiffeAuth = fp(plugin, { name: '@cardplane/spiffe-auth', fastify: '5.x' })
export default spiffeAuth
