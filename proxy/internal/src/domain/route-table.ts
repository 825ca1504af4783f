/**
 * The proxy's allowlist: each route names the calling service, the methods, a path template and the
 * upstream service. Anything not on the list is refused. The table is data: defaults for development
 * live here, deployments replace them with a JSON document (PROXY_ROUTES).
 */

/** One allowlisted route. */
export interface ProxyRoute {
  /** Stable identifier for logs and metrics. */
  id: string
  /** Service name (zone map) of the direct caller allowed on this route. */
  caller: string
  /** Allowed methods (upper case). */
  methods: string[]
  /** Path template: literal segments and `:name` parameters matching one segment. */
  path: string
  /** Service name (zone map) the request is forwarded to. */
  upstream: string
  /** Largest accepted request body in bytes (default: the proxy's global limit). */
  maxBodyBytes?: number
}

/** Parameter segments match opaque identifiers only: no dots, no percent signs, bounded length. */
const PARAM_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/

/** Development defaults: both directions between the main cluster and the CDE (flows.md). */
export const DEFAULT_ROUTES: ProxyRoute[] = [
  // main cluster -> CDE (cards -> processor CDE API)
  { id: 'cde-issue-card', caller: 'cards', methods: ['POST'], path: '/v1/cde/cards', upstream: 'processor' },
  { id: 'cde-get-card', caller: 'cards', methods: ['GET'], path: '/v1/cde/cards/:cardId', upstream: 'processor' },
  {
    id: 'cde-reveal-session',
    caller: 'cards',
    methods: ['POST'],
    path: '/v1/cde/cards/:cardId/reveal-sessions',
    upstream: 'processor',
  },
  {
    id: 'cde-pin-session',
    caller: 'cards',
    methods: ['POST'],
    path: '/v1/cde/cards/:cardId/pin-sessions',
    upstream: 'processor',
  },
  {
    id: 'cde-pin-reveal-session',
    caller: 'cards',
    methods: ['POST'],
    path: '/v1/cde/cards/:cardId/pin-reveal-sessions',
    upstream: 'processor',
  },
  // main cluster -> CDE, operator actions (console; the CLI acts as console)
  {
    id: 'cde-index-key-replace',
    caller: 'console',
    methods: ['POST'],
    path: '/v1/cde/admin/index-key/replace',
    upstream: 'processor',
    maxBodyBytes: 0,
  },
  // CDE -> main cluster
  { id: 'decisions', caller: 'processor', methods: ['POST'], path: '/v1/decisions', upstream: 'authorizations' },
  { id: 'decisions-batch', caller: 'processor', methods: ['POST'], path: '/v1/decisions/batch', upstream: 'authorizations' },
  { id: 'advices', caller: 'processor', methods: ['POST'], path: '/v1/advices', upstream: 'authorizations' },
  { id: 'reversals', caller: 'processor', methods: ['POST'], path: '/v1/reversals', upstream: 'authorizations' },
  {
    id: 'card-order-status',
    caller: 'manufacturing',
    methods: ['POST'],
    path: '/v1/cards/:cardId/manufacturing-status',
    upstream: 'cards',
  },
]

/** Result of matching a request against the table. */
export type RouteMatch =
  | { ok: true; route: ProxyRoute; params: Record<string, string> }
  | { ok: false; code: 'route_not_found' | 'route_caller_not_allowed' | 'route_method_not_allowed' }

function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/')
  const p = path.split('/')
  if (t.length !== p.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < t.length; i++) {
    const ts = t[i]!
    const ps = p[i]!
    if (ts.startsWith(':')) {
      if (!PARAM_SEGMENT.test(ps)) return undefined
      params[ts.slice(1)] = ps
    } else if (ts !== ps) {
      return undefined
    }
  }
  return params
}

/**
 * Find the route for (caller, method, normalised path). Refusal codes distinguish "no such path",
 * "path exists but not for this caller" and "method not on the route", for logs; callers get the same
 * refusal either way.
 */
export function matchRoute(routes: readonly ProxyRoute[], caller: string, method: string, path: string): RouteMatch {
  let pathSeen = false
  let callerSeen = false
  for (const route of routes) {
    const params = matchPath(route.path, path)
    if (!params) continue
    pathSeen = true
    if (route.caller !== caller) continue
    callerSeen = true
    if (!route.methods.includes(method)) continue
    return { ok: true, route, params }
  }
  if (callerSeen) return { ok: false, code: 'route_method_not_allowed' }
  if (pathSeen) return { ok: false, code: 'route_caller_not_allowed' }
  return { ok: false, code: 'route_not_found' }
}

/** Validate a route table loaded from configuration (fail fast at startup). */
export function validateRoutes(routes: unknown, knownServices: readonly string[]): ProxyRoute[] {
  if (!Array.isArray(routes)) throw new Error('proxy routes must be a JSON array')
  const ids = new Set<string>()
  return routes.map((r: unknown, i) => {
    const route = r as Partial<ProxyRoute>
    const where = `route ${i}`
    if (typeof route.id !== 'string' || route.id === '') throw new Error(`${where}: id is required`)
    if (ids.has(route.id)) throw new Error(`${where}: duplicate id ${route.id}`)
    ids.add(route.id)
    if (typeof route.caller !== 'string' || !knownServices.includes(route.caller)) {
      throw new Error(`${where}: caller must be a service in the zone map`)
    }
    if (typeof route.upstream !== 'string' || !knownServices.includes(route.upstream)) {
      throw new Error(`${where}: upstream must be a service in the zone map`)
    }
    if (!Array.isArray(route.methods) || route.methods.length === 0) throw new Error(`${where}: methods required`)
    for (const m of route.methods) {
      if (typeof m !== 'string' || !/^[A-Z]+$/.test(m)) throw new Error(`${where}: methods must be upper-case tokens`)
    }
    if (typeof route.path !== 'string' || !/^(\/(:?[A-Za-z0-9_-]+))+$/.test(route.path)) {
      throw new Error(`${where}: path must be a template like /v1/things/:id`)
    }
    const out: ProxyRoute = {
      id: route.id,
      caller: route.caller,
      methods: [...route.methods],
      path: route.path,
      upstream: route.upstream,
    }
    if (route.maxBodyBytes !== undefined) {
      if (!Number.isInteger(route.maxBodyBytes) || route.maxBodyBytes < 0) throw new Error(`${where}: bad maxBodyBytes`)
      out.maxBodyBytes = route.maxBodyBytes
    }
    return out
  })
}
