/**
 * An HTTP transport for `node-vault` over an undici keep-alive pool, plugged in through node-vault's
 * documented `request-promise` option (`vault({ ..., 'request-promise': transport })`). node-vault still
 * builds the paths, adds `X-Vault-Token`, and maps Vault's status codes and `{errors: [...]}` bodies to
 * its errors; only the HTTP layer changes. node-vault's default (axios) spends around a millisecond of
 * CPU per call on this project's machines, several times what the key service spends answering it.
 */
import { Pool } from 'undici'
import { collectExchange } from '@cardplane/service-kit/exchange'

/** What node-vault hands to a `request-promise` function (the fields it sets). */
export interface RpOptions {
  method: string
  uri: string
  headers?: Record<string, string>
  /** A request body object (node-vault's `write`/`update`), or `true` meaning "JSON answer". */
  json?: unknown
  timeout?: number
}

/** What node-vault expects back: it reads `statusCode`, `body`, and `request.path` (for sys/health). */
export interface RpResponse {
  statusCode: number
  body: unknown
  request: { path: string }
}

/** Options of {@link vaultTransport}. */
export interface VaultTransportOptions {
  /** Keep-alive connections to the key service (default 32). */
  connections?: number
  /** Per-request header and body timeout in ms, unless node-vault passes its own (default 5000). */
  timeoutMs?: number
  /** Idle keep-alive connections are closed after this many ms (default 30000). */
  keepAliveTimeoutMs?: number
}

/** A `request-promise`-shaped object node-vault accepts as `config['request-promise']`. */
export interface VaultTransport {
  /** node-vault calls `defaults(rpDefaults)` once and uses the returned function for every request. */
  defaults: (rpDefaults?: { timeout?: number }) => (options: RpOptions) => Promise<RpResponse>
  /** Close the keep-alive connections (pending requests finish first). */
  close: () => Promise<void>
}

/** A request for another origin than the transport's: node-vault's endpoint was changed after creation. */
export class VaultTransportOriginError extends Error {
  readonly code = 'vault_transport_origin'
  constructor() {
    super('node-vault endpoint does not match the transport origin')
    this.name = 'VaultTransportOriginError'
  }
}

function hasHeader(headers: Record<string, string>, lower: string): boolean {
  for (const k in headers) if (k.toLowerCase() === lower) return true
  return false
}

/**
 * Transport bound to the origin of `endpoint` (scheme, host, port). Responses are parsed as JSON when
 * they are JSON, passed through as text otherwise (node-vault's own transport does the same).
 */
export function vaultTransport(endpoint: string, opts: VaultTransportOptions = {}): VaultTransport {
  const origin = new URL(endpoint).origin
  const pool = new Pool(origin, { connections: opts.connections ?? 32, keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000 })

  const send = async (o: RpOptions, defaultTimeout: number): Promise<RpResponse> => {
    // node-vault always builds `${endpoint}/v1/...`: take the path without parsing a URL per call.
    if (!o.uri.startsWith(origin) || (o.uri.length > origin.length && o.uri[origin.length] !== '/')) throw new VaultTransportOriginError()
    const pathAndQuery = o.uri.slice(origin.length) || '/'
    const headers: Record<string, string> = o.headers ? { ...o.headers } : {}
    let body: string | null = null
    if (o.json !== undefined && typeof o.json === 'object' && o.json !== null) {
      body = JSON.stringify(o.json)
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json'
    }
    const timeout = o.timeout ?? defaultTimeout
    // undici's low-level dispatch, the answer collected from its chunks (no body stream per call).
    const answer = await collectExchange(pool, { method: o.method as 'GET', path: pathAndQuery, headers, body, headersTimeout: timeout, bodyTimeout: timeout })
    if (answer.error !== undefined) throw answer.error
    const statusCode = answer.statusCode
    const text = answer.body.toString('utf8')
    let parsed: unknown = text
    if (text !== '') {
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = text
      }
    }
    const q = pathAndQuery.indexOf('?')
    return { statusCode, body: parsed, request: { path: q === -1 ? pathAndQuery : pathAndQuery.slice(0, q) } }
  }

  return {
    defaults: (rpDefaults) => {
      const t = rpDefaults?.timeout ?? opts.timeoutMs ?? 5000
      return (o) => send(o, t)
    },
    close: () => pool.close(),
  }
}
