import { Pool } from 'undici'
import { encodeFrameBatch, FRAME_ANSWERS_CONTENT_TYPE, FRAME_BATCH_MAX_FRAMES, FRAME_BATCH_CONTENT_TYPE, FrameAnswerReader, type FrameAnswer } from '@cardplane/contracts'
import { collectExchange } from '@cardplane/service-kit'
import type { JwtSvidSource } from '@cardplane/spiffe'

/** What the processor said to do with a frame. */
export type ForwardResult = { action: 'answer'; frame: Buffer } | { action: 'none' } | { action: 'close' }

/** When a frame arrived at the edge (epoch ms): the processor counts its deadline from this. */
export interface FrameMeta {
  receivedAt: number
}

/** Sends frames of a link to the processor. */
export interface FrameForwarder {
  forward(link: string, frame: Buffer, meta: FrameMeta): Promise<ForwardResult>
  /**
   * Several frames of one link in one request (optional): one result per frame, in the same order, each
   * settling as soon as its own answer is back.
   */
  forwardGroup?(link: string, frames: readonly { frame: Buffer; meta: FrameMeta }[]): Promise<ForwardResult>[]
  close(): Promise<void>
}

/** Header through which the processor asks the proxy to drop the connection (unanswerable frame). */
export const LINK_ACTION_HEADER = 'x-cardplane-link-action'

const LINK_ACTION = Buffer.from(LINK_ACTION_HEADER, 'latin1')

/** The processor did not answer a frame (a non-200, an `error` record, a stream that ended early). */
function processorError(message: string): Error {
  return Object.assign(new Error(message), { code: 'processor_error' })
}

/** The processor set {@link LINK_ACTION_HEADER}: close (read from the raw headers, nothing parsed). */
function isLinkActionClose(raw: Buffer[] | string[] | null): boolean {
  if (!raw) return false
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!
    const matches = typeof name === 'string' ? name.toLowerCase() === LINK_ACTION_HEADER : name.length === LINK_ACTION.length && name.toString('latin1').toLowerCase() === LINK_ACTION_HEADER
    if (matches && String(raw[i + 1]) === 'close') return true
  }
  return false
}

/**
 * Forwards frames to `processor POST /v1/links/:link/frames` over an undici keep-alive pool, with the
 * proxy's JWT-SVID (audience: the processor's SPIFFE ID; the SVID source caches it). Bodies are the raw
 * frame bytes; nothing is parsed or logged here — frames may carry a PAN.
 */
export function createFrameForwarder(opts: {
  processorUrl: string
  processorSpiffeId: string
  svids: JwtSvidSource
  /** Per-frame deadline (ms) for the processor's answer; it answers within its own 1.5 s deadline. */
  timeoutMs?: number
  connections?: number
}): FrameForwarder {
  // Enough connections that frames do not queue here: the processor must see every frame at once to answer
  // the ones it cannot take with 91 right away (its admission); a queue in this pool would only make them
  // late. One request per connection (Node's server answers a pipelined connection one request at a time).
  const pool = new Pool(opts.processorUrl, { connections: opts.connections ?? 512, pipelining: 1, keepAliveTimeout: 60_000 })
  const timeoutMs = opts.timeoutMs ?? 4000
  return {
    async forward(link, frame, meta) {
      const svid = await opts.svids.fetchJwtSvid(opts.processorSpiffeId)
      const res = await collectExchange(pool, {
        method: 'POST',
        path: `/v1/links/${encodeURIComponent(link)}/frames`,
        headers: {
          authorization: `Bearer ${svid.token}`,
          'content-type': 'application/octet-stream',
          'x-cardplane-received-at': String(meta.receivedAt),
        },
        body: frame,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      if (res.error !== undefined) throw res.error
      if (isLinkActionClose(res.rawHeaders)) return { action: 'close' }
      if (res.statusCode === 204) return { action: 'none' }
      if (res.statusCode !== 200) throw processorError(`processor answered ${res.statusCode}`)
      return { action: 'answer', frame: res.body }
    },
    forwardGroup(link, frames) {
      const pending = frames.map(() => {
        let settle!: { resolve(r: ForwardResult): void; reject(e: unknown): void }
        const promise = new Promise<ForwardResult>((resolve, reject) => (settle = { resolve, reject }))
        return { promise, settle, done: false }
      })
      const finish = (index: number, outcome: { result: ForwardResult } | { error: unknown }): void => {
        const p = pending[index]
        if (!p || p.done) return
        p.done = true
        if ('result' in outcome) p.settle.resolve(outcome.result)
        else p.settle.reject(outcome.error)
      }
      const failRest = (error: unknown): void => pending.forEach((_, i) => finish(i, { error }))
      let body: Buffer
      try {
        body = encodeFrameBatch(frames.map((f) => ({ frame: f.frame, receivedAt: Math.round(f.meta.receivedAt) })))
      } catch (err) {
        failRest(err)
        return pending.map((p) => p.promise)
      }
      opts.svids.fetchJwtSvid(opts.processorSpiffeId).then((svid) => {
        const reader = new FrameAnswerReader()
        let status = 0
        pool.dispatch(
          {
            method: 'POST',
            path: `/v1/links/${encodeURIComponent(link)}/frame-batches`,
            headers: { authorization: `Bearer ${svid.token}`, 'content-type': FRAME_BATCH_CONTENT_TYPE, accept: FRAME_ANSWERS_CONTENT_TYPE },
            body,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          },
          {
            onConnect() {},
            onHeaders(code) {
              status = code
              return true
            },
            onData(chunk) {
              if (status !== 200) return true
              let answers: FrameAnswer[]
              try {
                answers = reader.push(chunk)
              } catch (err) {
                failRest(err)
                return false
              }
              for (const a of answers) {
                if (a.action === 'error') finish(a.index, { error: processorError('processor failed the frame') })
                else finish(a.index, { result: a.action === 'answer' ? { action: 'answer', frame: a.frame } : { action: a.action } })
              }
              return true
            },
            onComplete() {
              // Normally every frame is answered by now: no error object (and its stack) for nothing.
              if (pending.every((p) => p.done)) return
              failRest(processorError(status === 200 ? 'processor ended the batch without an answer' : `processor answered ${status}`))
            },
            onError: failRest,
          },
        )
      }, failRest)
      return pending.map((p) => p.promise)
    },
    close: () => pool.close(),
  }
}

/**
 * Micro-batching at the edge: while the links are busy (one window and one clock for all links of this
 * proxy, so frames of every link batch together), frames are held for up to `windowMs` and then forwarded
 * together, so they reach the processor in one wake-up and travel the rest of the path together (one Redis
 * write for their duplicate claims, one card-vault call, one decision batch; see service-kit's
 * createBatcher). On this kind of machine a process wake-up costs far more than the work of one frame, so
 * this takes CPU per authorisation down at moderate rates, where frames otherwise arrive one by one and
 * every hop wakes for each (tools/load/README.md). A frame that finds the links quiet (no other frame
 * within the last `windowMs`) is forwarded at once: a quiet link adds no latency. The hold counts against the
 * frame's deadline (its received-at time is the edge's), and it never exceeds `windowMs` (plus `extendMs`
 * while the processor is behind, when that is on); a burst of
 * `maxHeld` frames (default 16, the processor's batch size) leaves at once. It holds at every load: a guard
 * that forwarded straight once 32 frames were unanswered undid it at 500/s (a latency spike lifted the count
 * past the guard, the lost batching raised CPU and latency further), for no clear gain in a saturated loop.
 */
export function coalescingForwarder(
  inner: FrameForwarder,
  opts: {
    windowMs: number
    maxHeld?: number
    now?: () => number
    /**
     * Hold longer while the processor is behind (0: off): when the window ends and `busyRequests` forwarded
     * requests (groups, or lone frames) are still unanswered, keep holding until one of them is answered, the
     * held frames fill a batch, or the hold has lasted this much longer. A saturated path then gets larger
     * groups (less CPU per frame) instead of more requests queueing behind the ones it is still working on;
     * a path that keeps up never waits for it.
     */
    extendMs?: number
    /** Unanswered requests that count as "behind" for `extendMs` (default 2). */
    busyRequests?: number
  },
): FrameForwarder {
  if (!(opts.windowMs > 0)) return inner
  const maxHeld = Math.min(opts.maxHeld ?? 16, FRAME_BATCH_MAX_FRAMES)
  const now = opts.now ?? (() => performance.now())
  const extendMs = opts.extendMs ?? 0
  const busyRequests = opts.busyRequests ?? 2
  type Held = { link: string; frame: Buffer; meta: FrameMeta; resolve(r: ForwardResult): void; reject(e: unknown): void }
  let held: Held[] = []
  let timer: NodeJS.Timeout | undefined
  let extending = false
  let lastArrival = -Infinity
  // Requests sent and not yet fully answered (a group counts once, until its last frame settles); only the
  // extension reads the count, so without it nothing is tracked.
  let unanswered = 0
  const track = (results: Promise<ForwardResult>[]): void => {
    if (!(extendMs > 0)) return
    unanswered++
    let left = results.length
    const settled = (): void => {
      if (--left > 0) return
      unanswered--
      // An extended hold ends as soon as the processor has caught up with one request.
      if (extending && unanswered < busyRequests) release()
    }
    for (const r of results) r.then(settled, settled)
  }
  const release = (): void => {
    clearTimeout(timer)
    timer = undefined
    extending = false
    const out = held
    held = []
    // One request per link (almost always one link); a lone frame, or a forwarder without groups, one each.
    const byLink = new Map<string, Held[]>()
    for (const h of out) {
      const group = byLink.get(h.link)
      if (group) group.push(h)
      else byLink.set(h.link, [h])
    }
    for (const [link, group] of byLink) {
      if (group.length > 1 && inner.forwardGroup) {
        const results = inner.forwardGroup(link, group)
        results.forEach((result, i) => result.then(group[i]!.resolve, group[i]!.reject))
        track(results)
        continue
      }
      for (const h of group) {
        const result = inner.forward(link, h.frame, h.meta)
        result.then(h.resolve, h.reject)
        track([result])
      }
    }
  }
  const windowEnded = (): void => {
    if (extendMs > 0 && !extending && unanswered >= busyRequests) {
      extending = true
      timer = setTimeout(release, extendMs)
      return
    }
    release()
  }
  return {
    forward(link, frame, meta) {
      const t = now()
      const busy = t - lastArrival < opts.windowMs
      lastArrival = t
      if (!busy && timer === undefined) {
        const result = inner.forward(link, frame, meta)
        track([result])
        return result
      }
      return new Promise<ForwardResult>((resolve, reject) => {
        held.push({ link, frame, meta, resolve, reject })
        // A full batch goes at once: a burst is not held for the rest of the window.
        if (held.length >= maxHeld) release()
        else timer ??= setTimeout(windowEnded, opts.windowMs)
      })
    },
    async close() {
      if (held.length > 0) release()
      await inner.close()
    },
  }
}
