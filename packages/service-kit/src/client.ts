import { Pool, errors as undiciErrors, util as undiciUtil, type Dispatcher } from 'undici'
import type { JwtSvidSource } from '@cardplane/spiffe'
import { serviceByName, type ZoneMap } from '@cardplane/zones'
import { DeadlineError, UpstreamError, isCardplaneError } from './errors.js'
import { collectExchange, deadlinePassed } from './exchange.js'

/** Options of createServiceClient. */
export interface ServiceClientOptions {
  /** Callee service name in the zone map; its SPIFFE ID is the JWT-SVID audience. */
  callee: string
  zoneMap: ZoneMap
  /** Where this workload's JWT-SVIDs come from (the Workload API client). */
  svids: JwtSvidSource
  /** Callee base URL; default `http://127.0.0.1:<devPort>` (use serviceUrl(config, ...) in services). */
  baseUrl?: string
  /** Deadline for one request, connect to last body byte (default 5000 ms). */
  timeoutMs?: number
  /** Keep-alive connections to the callee (default 16). */
  connections?: number
}

/** One request through a service client. */
export interface ServiceRequest {
  method: Dispatcher.HttpMethod
  /** Path with query string, e.g. `/v1/cards/abc?x=1`. */
  path: string
  /** JSON-serialised when present. */
  body?: unknown
  headers?: Record<string, string>
  /** Overrides the client's timeoutMs for this request (e.g. the remaining authorisation budget). */
  timeoutMs?: number
}

/** A successful (2xx) answer. */
export interface ServiceResponse<T> {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: T
}

/** Context of the UpstreamError/DeadlineError a client throws. */
export interface UpstreamContext {
  callee: string
  method: string
  /** Route path without the query string (query strings could carry data). */
  path: string
  statusCode?: number
  /** The callee's `error.code`, when it answered with the standard error body. */
  upstreamCode?: string
}

/** HTTP client for one callee. */
export interface ServiceClient {
  readonly callee: string
  readonly baseUrl: string
  /** Send a request; resolves for 2xx, throws UpstreamError (non-2xx, network) or DeadlineError. */
  request<T = unknown>(req: ServiceRequest): Promise<ServiceResponse<T>>
  /** Close the keep-alive pool. */
  close(): Promise<void>
}

/**
 * The UpstreamError for a non-2xx answer: the status, the callee's `error.code` from a standard error body,
 * and retry for 5xx and 429. Also for one item's answer inside a batch call's body, so a batched item fails
 * exactly as the same request sent alone would.
 */
export function answeredError(ctx: Omit<UpstreamContext, 'statusCode' | 'upstreamCode'>, statusCode: number, body: unknown): UpstreamError {
  const upstreamCode = (body as { error?: { code?: unknown } } | undefined)?.error?.code
  return new UpstreamError('upstream_error', {
    message: `${ctx.callee} answered ${statusCode}`,
    retry: statusCode >= 500 || statusCode === 429,
    context: { ...ctx, statusCode, ...(typeof upstreamCode === 'string' ? { upstreamCode } : {}) },
  })
}

/** A batch call's `results`, checked to hold one entry per item sent (else `upstream_bad_response`). */
export function batchResults<A>(body: { results?: unknown } | undefined, count: number, ctx: Omit<UpstreamContext, 'statusCode' | 'upstreamCode'>): A[] {
  const results = body?.results
  if (!Array.isArray(results) || results.length !== count) {
    throw new UpstreamError('upstream_bad_response', { retry: false, context: ctx })
  }
  return results as A[]
}

function isTimeout(err: unknown): boolean {
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError ||
    (err instanceof Error && (err.name === 'TimeoutError' || (err.name === 'AbortError' && /timeout/i.test(String(err.message)))))
  )
}

/**
 * An undici keep-alive Pool to one callee that attaches `Authorization: Bearer <JWT-SVID>` with the
 * callee's SPIFFE ID as audience on every request (the SVID source caches tokens). Failures become typed
 * errors: non-2xx answers and connection failures → UpstreamError (retry for 5xx/429/network),
 * deadline passed → DeadlineError. The deadline counts from the call (getting the SVID included).
 */
export function createServiceClient(opts: ServiceClientOptions): ServiceClient {
  const callee = serviceByName(opts.zoneMap, opts.callee)
  const baseUrl = opts.baseUrl ?? `http://127.0.0.1:${callee.devPort}`
  const timeoutMs = opts.timeoutMs ?? 5000
  const pool = new Pool(baseUrl, { connections: opts.connections ?? 16, keepAliveTimeout: 30_000 })

  async function request<T>(req: ServiceRequest): Promise<ServiceResponse<T>> {
    const deadline = req.timeoutMs ?? timeoutMs
    const started = Date.now()
    try {
      const svid = await opts.svids.fetchJwtSvid(callee.spiffeId)
      const headers: Record<string, string> = { ...req.headers, authorization: `Bearer ${svid.token}` }
      let body: string | null = null
      if (req.body !== undefined) {
        body = JSON.stringify(req.body)
        headers['content-type'] = 'application/json'
      }
      const left = deadline - (Date.now() - started)
      if (left <= 0) throw deadlinePassed(deadline)
      const answer = await collectExchange(pool, { method: req.method, path: req.path, headers, body, headersTimeout: left, bodyTimeout: left }, { deadlineMs: left })
      if (answer.error !== undefined) throw answer.error
      const res = { statusCode: answer.statusCode, headers: undiciUtil.parseHeaders(answer.rawHeaders) as Record<string, string | string[] | undefined> }
      const text = answer.body.toString('utf8')
      const type = String(res.headers['content-type'] ?? '')
      let parsed: unknown = text
      if (type.includes('json') && text !== '') {
        try {
          parsed = JSON.parse(text)
        } catch {
          throw new UpstreamError('upstream_bad_response', { context: { ...context(req), statusCode: res.statusCode }, retry: false })
        }
      }
      if (res.statusCode < 200 || res.statusCode >= 300) throw answeredError(context(req), res.statusCode, parsed)
      return { statusCode: res.statusCode, headers: res.headers, body: parsed as T }
    } catch (err) {
      if (isCardplaneError(err)) throw err
      if (isTimeout(err)) {
        throw new DeadlineError('upstream_deadline_exceeded', {
          message: `${callee.name} did not answer within ${deadline} ms`,
          context: context(req),
          cause: err,
        })
      }
      throw new UpstreamError('upstream_unreachable', {
        message: `${callee.name} unreachable: ${(err as { code?: string }).code ?? (err as Error).name}`,
        retry: true,
        context: context(req),
        cause: err,
      })
    }
  }

  /** Error context: the route path without the query string (query strings could carry data). */
  function context(req: ServiceRequest): UpstreamContext {
    const q = req.path.indexOf('?')
    return { callee: callee.name, method: req.method, path: q === -1 ? req.path : req.path.slice(0, q) }
  }

  return { callee: callee.name, baseUrl, request, close: () => pool.close() }
}
