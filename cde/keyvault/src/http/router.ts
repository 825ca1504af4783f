import type { Capability } from '../domain/policy.js'
import type { TokenEntry } from '../domain/tokens.js'
import type { Body } from '../domain/input.js'
import type { Core } from '../core.js'

/**
 * Logical requests, Vault style: the HTTP layer turns `METHOD /v1/<path>` into an operation on a
 * path, the router finds the path's handler, and the core wraps it in sealing, auth, ACL and audit.
 */
export type Operation = 'read' | 'update' | 'delete' | 'list'

export interface LogicalRequest {
  id: string
  operation: Operation
  /** Without `/v1/` and without a trailing slash. */
  path: string
  data: Body
  query: Record<string, string>
  token: string | undefined
  remoteAddress: string
}

/** Vault's `auth` block, returned by logins and token creation. */
export interface AuthBlock {
  client_token: string
  accessor: string
  policies: string[]
  token_policies: string[]
  metadata: Record<string, string>
  lease_duration: number
  renewable: boolean
  entity_id: string
  token_type: 'service'
  orphan: boolean
}

export interface LogicalResponse {
  /** Default 200 (204 when there is neither data nor auth). */
  status?: number
  data?: unknown
  auth?: AuthBlock
  warnings?: string[]
  /** Sent as the whole body instead of the envelope (sys/init, sys/unseal, sys/health, ...). */
  raw?: unknown
}

export interface RequestContext {
  req: LogicalRequest
  params: Record<string, string>
  /** Present on authenticated paths. */
  token: TokenEntry | undefined
  core: Core
}

export type Handler = (ctx: RequestContext) => Promise<LogicalResponse>

/** One path of the API. */
export interface PathRoute {
  /** `transit/encrypt/:name`; `:x` is one segment. */
  pattern: string
  handlers: Partial<Record<Operation, Handler>>
  /** No token needed (sys/init, sys/unseal, sys/health, login). */
  unauthenticated?: boolean
  /** Served while sealed (otherwise 503). */
  whenSealed?: boolean
  /** Needs the `sudo` capability (root token) besides the operation's own. */
  sudo?: boolean
  /**
   * The handler only computes (no storage write, no state change): its request and response audit
   * rows are committed together after it runs, still before the answer. One commit instead of two
   * on the hot paths (CVV/PIN/ARQC/MAC/transit); anything that changes state audits its request first.
   */
  pure?: boolean
  /**
   * Accepts Vault's `batch_input` convention (as transit does): `{batch_input: [item, ...]}` runs the
   * handler once per item (each item is the request body it would be alone), and answers
   * `{batch_results: [result | {error, code}, ...]}` in the same order, one item's failure never
   * failing the others. Each item gets its own request and response audit rows. Pure routes only.
   */
  batchable?: boolean
}

interface CompiledRoute extends PathRoute {
  re: RegExp
  names: string[]
}

/** Capabilities that satisfy an operation. */
export function capabilitiesFor(op: Operation): Capability[] {
  switch (op) {
    case 'read':
      return ['read']
    case 'list':
      return ['list']
    case 'update':
      return ['update', 'create']
    case 'delete':
      return ['delete']
  }
}

const MATCH_CACHE_MAX = 4096

export class Router {
  private routes: CompiledRoute[] = []
  /**
   * Matches by path, so the hot paths (`payments/cvv/verify/<key>`) skip the scan over every route
   * pattern. Bounded: emptied when it grows past MATCH_CACHE_MAX distinct paths (paths are client input).
   */
  private matches = new Map<string, { route: PathRoute; params: Record<string, string> } | undefined>()

  add(routes: PathRoute[]): void {
    for (const r of routes) {
      const names: string[] = []
      const body = r.pattern
        .split('/')
        .map((seg) => {
          if (seg.startsWith(':')) {
            names.push(seg.slice(1))
            return '([A-Za-z0-9_.-]+)'
          }
          return seg.replace(/[.+?^${}()|[\]\\*]/g, '\\$&')
        })
        .join('/')
      this.routes.push({ ...r, re: new RegExp(`^${body}$`), names })
    }
    this.matches.clear()
  }

  /** The route for `path` and its parameters (a shared, frozen object: handlers only read it). */
  match(path: string): { route: PathRoute; params: Record<string, string> } | undefined {
    if (this.matches.has(path)) return this.matches.get(path)
    const found = this.scan(path)
    if (this.matches.size >= MATCH_CACHE_MAX) this.matches.clear()
    this.matches.set(path, found)
    return found
  }

  private scan(path: string): { route: PathRoute; params: Record<string, string> } | undefined {
    for (const r of this.routes) {
      const m = r.re.exec(path)
      if (!m) continue
      const params: Record<string, string> = {}
      r.names.forEach((n, i) => (params[n] = m[i + 1] ?? ''))
      return Object.freeze({ route: r, params: Object.freeze(params) })
    }
    return undefined
  }
}
