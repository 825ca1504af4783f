import type { Dispatcher } from 'undici'

/** An answer collected by {@link collectExchange}. */
export interface CollectedAnswer {
  statusCode: number
  /** The answer's headers as undici hands them over (name, value, name, value, …); parse when needed. */
  rawHeaders: Buffer[]
  /** The body (empty when `tooLarge`). */
  body: Buffer
  /** The body passed `maxBytes`: the exchange was aborted there. */
  tooLarge: boolean
  /** The exchange failed after the headers had arrived (body cut short, deadline): status and headers stand. */
  error?: unknown
}

/** Limits of {@link collectExchange}. */
export interface ExchangeLimits {
  /** Abort once the body passes this many bytes and answer `tooLarge` (default: no limit). */
  maxBytes?: number
  /** Abort when this many ms pass first, with a `TimeoutError` (as AbortSignal.timeout gives). */
  deadlineMs?: number
}

/** The deadline passed while the exchange was still going. */
export function deadlinePassed(deadline: number): Error {
  const err = new Error(`deadline of ${deadline} ms passed`)
  err.name = 'TimeoutError'
  return err
}

/**
 * One HTTP exchange over undici's low-level dispatch, the answer collected from its chunks: no Readable
 * body stream, async iterator or AbortSignal per request (together about half of a caller's CPU per
 * request on the hot paths). Rejects with the undici error (or the deadline's TimeoutError) when nothing
 * was answered; a failure after the headers is the answer's `error`.
 */
export function collectExchange(dispatcher: Pick<Dispatcher, 'dispatch'>, opts: Dispatcher.DispatchOptions, limits: ExchangeLimits = {}): Promise<CollectedAnswer> {
  return new Promise<CollectedAnswer>((resolve, reject) => {
    let statusCode = 0
    let rawHeaders: Buffer[] = []
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    let abort: ((err?: Error) => void) | undefined
    let aborted: Error | undefined
    const body = (): Buffer => (chunks.length === 0 ? Buffer.alloc(0) : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
    const settle = (): boolean => {
      if (settled) return false
      settled = true
      if (timer) clearTimeout(timer)
      return true
    }
    const fail = (err: unknown): void => {
      if (!settle()) return
      if (statusCode === 0) reject(err)
      else resolve({ statusCode, rawHeaders, body: body(), tooLarge: false, error: err })
    }
    const deadline = limits.deadlineMs
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(() => {
            aborted = deadlinePassed(deadline)
            // Not connected yet (queued for a connection): onConnect aborts it when its turn comes.
            abort?.(aborted)
            fail(aborted)
          }, deadline)
    timer?.unref()
    const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY
    const handler: Dispatcher.DispatchHandler = {
      onConnect(a) {
        if (aborted) a(aborted)
        else abort = a
      },
      onHeaders(code, raw) {
        statusCode = code
        rawHeaders = raw as Buffer[]
        return true
      },
      onData(chunk) {
        if (settled) return false
        size += chunk.length
        if (size > maxBytes) {
          settle()
          resolve({ statusCode, rawHeaders, body: Buffer.alloc(0), tooLarge: true })
          abort?.(new Error('response too large'))
          return false
        }
        chunks.push(chunk)
        return true
      },
      onComplete() {
        if (settle()) resolve({ statusCode, rawHeaders, body: body(), tooLarge: false })
      },
      onError: fail,
    }
    dispatcher.dispatch(opts, handler)
  })
}
