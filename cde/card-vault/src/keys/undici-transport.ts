/**
 * Transport for node-vault over an undici keep-alive pool, plugged in through node-vault's documented
 * `request-promise` option. node-vault still builds paths, adds the token and maps Vault errors; only
 * the HTTP layer changes: the default axios path costs several milliseconds of CPU per call, which
 * would cap card verification far below the key service's own capacity.
 */
import { Pool } from 'undici'

interface RpOptions {
  method: string
  uri: string
  headers?: Record<string, string>
  json?: unknown
  timeout?: number
}

interface RpResponse {
  statusCode: number
  body: unknown
  request: { path: string }
}

/** A `request-promise`-shaped object node-vault accepts as `config['request-promise']`. */
export function undiciTransport(endpoint: string, opts: { connections?: number; timeoutMs?: number } = {}): {
  defaults: () => (options: RpOptions) => Promise<RpResponse>
  close: () => Promise<void>
} {
  const origin = new URL(endpoint).origin
  const pool = new Pool(origin, { connections: opts.connections ?? 32, keepAliveTimeout: 30_000 })
  const send = async (o: RpOptions): Promise<RpResponse> => {
    const url = new URL(o.uri)
    const headers: Record<string, string> = { ...o.headers }
    let body: string | undefined
    if (o.json !== undefined && typeof o.json === 'object' && o.json !== null) {
      body = JSON.stringify(o.json)
      headers['content-type'] = 'application/json'
    }
    const timeout = o.timeout ?? opts.timeoutMs ?? 5000
    const res = await pool.request({
      method: o.method as 'GET',
      path: url.pathname + url.search,
      headers,
      body: body ?? null,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    })
    const text = await res.body.text()
    let parsed: unknown = text
    if (text !== '') {
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = text
      }
    }
    return { statusCode: res.statusCode, body: parsed, request: { path: url.pathname } }
  }
  return { defaults: () => send, close: () => pool.close() }
}
