import {
  credentials,
  Metadata,
  status as GrpcStatus,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js'
import { decodeJwt, type JSONWebKeySet, type JWTPayload } from 'jose'
import { isSpiffeId, trustDomainFromKey } from './spiffe-id.js'
import type { JwtBundleSource, JwtSvid, JwtSvidSource } from './types.js'
import {
  fromStruct,
  loadWorkloadApi,
  WORKLOAD_API_HEADER,
  WORKLOAD_API_HEADER_VALUE,
  type JwtBundlesResponseMsg,
  type JwtSvidRequestMsg,
  type JwtSvidResponseMsg,
  type ValidateJwtSvidRequestMsg,
  type ValidateJwtSvidResponseMsg,
} from './workload-proto.js'

/** Why a Workload API call failed. */
export type WorkloadApiErrorCode =
  | 'workload_api_no_endpoint'
  | 'workload_api_bad_endpoint'
  | 'workload_api_unavailable'
  | 'workload_api_permission_denied'
  | 'workload_api_invalid_argument'
  | 'workload_api_failed'
  | 'workload_api_bad_response'
  | 'workload_api_closed'

/** A failed Workload API call; `grpcCode` is the gRPC status when there was one. */
export class WorkloadApiError extends Error {
  readonly code: WorkloadApiErrorCode
  readonly grpcCode: number | undefined
  /** Whether trying again later may succeed. */
  readonly retry: boolean
  constructor(code: WorkloadApiErrorCode, message: string, opts: { grpcCode?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'WorkloadApiError'
    this.code = code
    this.grpcCode = opts.grpcCode
    this.retry = code === 'workload_api_unavailable' || code === 'workload_api_permission_denied'
  }
}

/** Options for {@link WorkloadApiClient}. */
export interface WorkloadApiClientOptions {
  /** `unix:///path/to/socket` (or a bare absolute path). Default: `SPIFFE_ENDPOINT_SOCKET`. */
  socketPath?: string
  /** Retry/restart backoff: first delay and cap, in ms (defaults 100 and 5000). */
  backoff?: { initialMs?: number; maxMs?: number }
  /** Total time a fetchJwtSvid may spend retrying, in ms (default 30000). */
  fetchTimeoutMs?: number
  /** Deadline of a single unary attempt, in ms (default 5000). */
  attemptTimeoutMs?: number
  /** Told about bundle-stream failures (they are retried; this is for logging). */
  onStreamError?: (err: WorkloadApiError) => void
}

const RETRYABLE = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.PERMISSION_DENIED])

/** Turn `unix:///p`, `unix:/p` or `/p` into a grpc-js target. */
export function workloadApiTarget(endpoint: string | undefined): string {
  if (!endpoint) {
    throw new WorkloadApiError('workload_api_no_endpoint', 'no Workload API endpoint: set SPIFFE_ENDPOINT_SOCKET')
  }
  let path: string
  if (endpoint.startsWith('unix://')) path = endpoint.slice('unix://'.length)
  else if (endpoint.startsWith('unix:')) path = endpoint.slice('unix:'.length)
  else path = endpoint
  if (!path.startsWith('/')) {
    throw new WorkloadApiError('workload_api_bad_endpoint', 'Workload API endpoint must be unix:///absolute/path')
  }
  return `unix://${path}`
}

function wrapGrpcError(err: unknown): WorkloadApiError {
  const code = (err as Partial<ServiceError>).code
  const details = (err as Partial<ServiceError>).details ?? 'unknown error'
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
      return new WorkloadApiError('workload_api_unavailable', `Workload API unavailable: ${details}`, { grpcCode: code, cause: err })
    case GrpcStatus.PERMISSION_DENIED:
      return new WorkloadApiError('workload_api_permission_denied', `Workload API denied the call: ${details}`, {
        grpcCode: code,
        cause: err,
      })
    case GrpcStatus.INVALID_ARGUMENT:
      return new WorkloadApiError('workload_api_invalid_argument', `Workload API refused the request: ${details}`, {
        grpcCode: code,
        cause: err,
      })
    default:
      return new WorkloadApiError('workload_api_failed', `Workload API call failed: ${details}`, {
        ...(code !== undefined ? { grpcCode: code } : {}),
        cause: err,
      })
  }
}

interface CachedSvid {
  svid: JwtSvid
  refreshAt: number
}

/**
 * SPIFFE Workload API client (JWT profile) over a Unix socket, no TLS. Every call carries
 * `workload.spiffe.io: true`. Keeps a FetchJWTBundles stream open (restarted with backoff when it
 * breaks) and caches JWT-SVIDs per audience until half their lifetime has passed. Unavailable and
 * PermissionDenied are retried with exponential backoff; InvalidArgument never is.
 */
export class WorkloadApiClient implements JwtSvidSource, JwtBundleSource {
  private readonly client: Client
  private readonly initialMs: number
  private readonly maxMs: number
  private readonly fetchTimeoutMs: number
  private readonly attemptTimeoutMs: number
  private readonly onStreamError: ((err: WorkloadApiError) => void) | undefined
  private closed = false
  private mySpiffeId: string | undefined
  private bundles = new Map<string, JSONWebKeySet>()
  private bundlesReceived = false
  /** Set when the server refused the bundle stream with InvalidArgument: retrying cannot help. */
  private streamRefused: WorkloadApiError | undefined
  private readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = []
  private stream: ClientReadableStream<JwtBundlesResponseMsg> | undefined
  private streamDelayMs: number
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly sleepers = new Set<() => void>()
  private readonly cache = new Map<string, CachedSvid>()
  private readonly inflight = new Map<string, Promise<JwtSvid>>()

  constructor(options: WorkloadApiClientOptions = {}) {
    const target = workloadApiTarget(options.socketPath ?? process.env.SPIFFE_ENDPOINT_SOCKET)
    this.initialMs = options.backoff?.initialMs ?? 100
    this.maxMs = options.backoff?.maxMs ?? 5000
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 30_000
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5000
    this.onStreamError = options.onStreamError
    this.streamDelayMs = this.initialMs
    const { Client: Ctor } = loadWorkloadApi()
    this.client = new Ctor(target, credentials.createInsecure(), {
      // grpc-js defaults reconnect after 1 s growing to 120 s; a local agent restart should be noticed quickly.
      'grpc.initial_reconnect_backoff_ms': this.initialMs,
      'grpc.max_reconnect_backoff_ms': this.maxMs,
    })
    this.startBundleStream()
  }

  /** This workload's SPIFFE ID, known after the first successful fetchJwtSvid. */
  get spiffeId(): string | undefined {
    return this.mySpiffeId
  }

  /** JWKS of a trust domain from the latest FetchJWTBundles message. */
  getBundle(trustDomain: string): JSONWebKeySet | undefined {
    return this.bundles.get(trustDomain)
  }

  /** Resolves once the first bundle message has arrived; rejects if the client is closed first. */
  ready(): Promise<void> {
    if (this.bundlesReceived) return Promise.resolve()
    if (this.closed) return Promise.reject(new WorkloadApiError('workload_api_closed', 'Workload API client is closed'))
    if (this.streamRefused) return Promise.reject(this.streamRefused)
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }))
  }

  /** A JWT-SVID for `audience`, from cache while less than half its lifetime has passed. */
  async fetchJwtSvid(audience: string): Promise<JwtSvid> {
    if (typeof audience !== 'string' || audience.length === 0) {
      throw new WorkloadApiError('workload_api_invalid_argument', 'audience is required')
    }
    const now = Date.now()
    const hit = this.cache.get(audience)
    if (hit && now < hit.refreshAt) return hit.svid
    let pending = this.inflight.get(audience)
    if (!pending) {
      pending = this.fetchAndCache(audience).finally(() => this.inflight.delete(audience))
      this.inflight.set(audience, pending)
    }
    try {
      return await pending
    } catch (err) {
      // A refresh that fails while the cached token is still comfortably valid should not fail the call.
      if (hit && hit.svid.expiresAt.getTime() - Date.now() > 5000 && !this.closed) return hit.svid
      throw err
    }
  }

  /** Ask the Workload API server to validate a token for `audience` (ValidateJWTSVID). */
  async validateJwtSvid(token: string, audience: string): Promise<{ spiffeId: string; claims: Record<string, unknown> }> {
    const res = await this.withRetry<ValidateJwtSvidResponseMsg>((deadline, cb) => {
      const req: ValidateJwtSvidRequestMsg = { audience, svid: token }
      ;(this.client as unknown as UnaryClient).ValidateJWTSVID(req, this.metadata(), { deadline }, cb)
    })
    return { spiffeId: res.spiffe_id, claims: res.claims ? fromStruct(res.claims) : {} }
  }

  /** Stop the bundle stream and retries, and close the channel. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const wake of this.sleepers) wake()
    this.sleepers.clear()
    this.stream?.cancel()
    this.stream = undefined
    const err = new WorkloadApiError('workload_api_closed', 'Workload API client is closed')
    for (const w of this.readyWaiters) w.reject(err)
    this.readyWaiters = []
    this.cache.clear()
    this.client.close()
  }

  private metadata(): Metadata {
    const md = new Metadata()
    md.set(WORKLOAD_API_HEADER, WORKLOAD_API_HEADER_VALUE)
    return md
  }

  private async fetchAndCache(audience: string): Promise<JwtSvid> {
    const res = await this.withRetry<JwtSvidResponseMsg>((deadline, cb) => {
      const req: JwtSvidRequestMsg = { audience: [audience], spiffe_id: '' }
      ;(this.client as unknown as UnaryClient).FetchJWTSVID(req, this.metadata(), { deadline }, cb)
    })
    const first = res.svids[0]
    if (!first || !first.svid || !isSpiffeId(first.spiffe_id)) {
      throw new WorkloadApiError('workload_api_bad_response', 'FetchJWTSVID returned no usable SVID')
    }
    let claims: JWTPayload
    try {
      claims = decodeJwt(first.svid)
    } catch (err) {
      throw new WorkloadApiError('workload_api_bad_response', 'FetchJWTSVID returned a malformed token', { cause: err })
    }
    if (typeof claims.exp !== 'number' || claims.sub !== first.spiffe_id) {
      throw new WorkloadApiError('workload_api_bad_response', 'FetchJWTSVID returned a token without exp or with another sub')
    }
    const fetchedAt = Date.now()
    const expiresAt = claims.exp * 1000
    const svid: JwtSvid = { spiffeId: first.spiffe_id, token: first.svid, expiresAt: new Date(expiresAt) }
    this.mySpiffeId = first.spiffe_id
    if (!this.closed) this.cache.set(audience, { svid, refreshAt: fetchedAt + (expiresAt - fetchedAt) / 2 })
    return svid
  }

  private async withRetry<T>(attempt: (deadline: Date, cb: (err: ServiceError | null, res?: T) => void) => void): Promise<T> {
    const giveUpAt = Date.now() + this.fetchTimeoutMs
    let delay = this.initialMs
    for (;;) {
      if (this.closed) throw new WorkloadApiError('workload_api_closed', 'Workload API client is closed')
      const deadline = new Date(Math.min(Date.now() + this.attemptTimeoutMs, giveUpAt))
      try {
        return await new Promise<T>((resolve, reject) => {
          attempt(deadline, (err, res) => (err ? reject(err) : res ? resolve(res) : reject(new Error('empty response'))))
        })
      } catch (err) {
        const code = (err as Partial<ServiceError>).code
        const retryable = code !== undefined && RETRYABLE.has(code)
        if (!retryable || Date.now() + delay >= giveUpAt || this.closed) throw wrapGrpcError(err)
        await this.sleep(delay)
        delay = this.nextDelay(delay)
      }
    }
  }

  /** Exponential growth with +-20% jitter so restarted workloads do not retry in lockstep. */
  private nextDelay(current: number): number {
    const grown = Math.min(current * 2, this.maxMs)
    return Math.round(grown * (0.8 + Math.random() * 0.4))
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t)
        this.timers.delete(t)
        this.sleepers.delete(wake)
        resolve()
      }
      const t = setTimeout(wake, ms)
      this.timers.add(t)
      this.sleepers.add(wake)
    })
  }

  private startBundleStream(): void {
    if (this.closed) return
    const call = (this.client as unknown as StreamClient).FetchJWTBundles({}, this.metadata())
    this.stream = call
    let finished = false
    const restart = (err: unknown): void => {
      if (finished) return
      finished = true
      if (this.stream === call) this.stream = undefined
      if (this.closed) return
      const wrapped =
        err === undefined ? new WorkloadApiError('workload_api_unavailable', 'FetchJWTBundles stream ended') : wrapGrpcError(err)
      this.onStreamError?.(wrapped)
      if (wrapped.code === 'workload_api_invalid_argument') {
        // The standard says never retry InvalidArgument; fail readiness so the service reports it.
        this.streamRefused = wrapped
        for (const w of this.readyWaiters) w.reject(wrapped)
        this.readyWaiters = []
        return
      }
      const delay = this.streamDelayMs
      this.streamDelayMs = this.nextDelay(delay)
      const t = setTimeout(() => {
        this.timers.delete(t)
        this.startBundleStream()
      }, delay)
      this.timers.add(t)
    }
    call.on('data', (msg: JwtBundlesResponseMsg) => this.acceptBundles(msg))
    call.on('error', (err) => restart(err))
    call.on('end', () => restart(undefined))
  }

  private acceptBundles(msg: JwtBundlesResponseMsg): void {
    const next = new Map<string, JSONWebKeySet>()
    for (const [key, bytes] of Object.entries(msg.bundles ?? {})) {
      try {
        const td = trustDomainFromKey(key)
        const jwks = JSON.parse(Buffer.from(bytes).toString('utf8')) as JSONWebKeySet
        if (!Array.isArray(jwks.keys)) throw new Error('bundle has no keys array')
        next.set(td, jwks)
      } catch (err) {
        this.onStreamError?.(new WorkloadApiError('workload_api_bad_response', 'FetchJWTBundles sent an unusable bundle', { cause: err }))
      }
    }
    this.bundles = next
    this.streamDelayMs = this.initialMs
    if (!this.bundlesReceived && next.size > 0) {
      this.bundlesReceived = true
      for (const w of this.readyWaiters) w.resolve()
      this.readyWaiters = []
    }
  }
}

type UnaryCallback<T> = (err: ServiceError | null, res?: T) => void
interface UnaryClient {
  FetchJWTSVID(req: JwtSvidRequestMsg, md: Metadata, opts: { deadline: Date }, cb: UnaryCallback<JwtSvidResponseMsg>): void
  ValidateJWTSVID(
    req: ValidateJwtSvidRequestMsg,
    md: Metadata,
    opts: { deadline: Date },
    cb: UnaryCallback<ValidateJwtSvidResponseMsg>,
  ): void
}
interface StreamClient {
  FetchJWTBundles(req: Record<string, never>, md: Metadata): ClientReadableStream<JwtBundlesResponseMsg>
}
