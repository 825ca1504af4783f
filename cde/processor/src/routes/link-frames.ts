import { PassThrough } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import {
  decodeFrameBatch,
  encodeFrameAnswer,
  FRAME_ANSWERS_CONTENT_TYPE,
  FRAME_BATCH_CONTENT_TYPE,
  FRAME_BATCH_MAX_BODY_BYTES,
  FrameBatchError,
  type BatchedFrame,
  type FrameAnswer,
} from '@cardplane/contracts'
import type { AuthorizationPipeline, FrameResult } from '../pipeline/pipeline.js'
import type { LinkConfig } from '../pipeline/types.js'

/** Header through which the processor asks proxy-public to drop the connection (frame cannot be answered). */
export const LINK_ACTION_HEADER = 'x-cardplane-link-action'
/** Header carrying the proxy's receipt time (epoch ms): the deadline counts from the TCP edge. */
export const RECEIVED_AT_HEADER = 'x-cardplane-received-at'

/** Largest frame accepted over HTTP (the VMLH length field is 16 bits). */
const MAX_FRAME = 65_535

/** Stamps older than this are not believed (a broken or replaying caller): taken as now. */
export const MAX_EDGE_AGE_MS = 60_000

/**
 * The deadline counts from the TCP edge: proxy-public stamps each frame when its last byte arrived. A frame
 * that queued between the proxy and the pipeline arrives with less time left — or none, and is then
 * answered at once (see the pipeline's admission). Only an absent, malformed or implausible stamp falls
 * back to the processor's own receipt time.
 */
export function edgeReceiptTime(header: string | string[] | undefined, now: number): number {
  const edge = typeof header === 'string' && /^[0-9]{1,15}$/.test(header) ? Number(header) : Number.NaN
  return plausibleEdgeTime(edge, now)
}

/** The edge's stamp (epoch ms) when it is believable, else `now`. */
export function plausibleEdgeTime(edge: number, now: number): number {
  if (!Number.isFinite(edge)) return now
  // A stamp ahead of our clock (nodes' clocks differ slightly) or too old to believe: count from now.
  return edge <= now && now - edge <= MAX_EDGE_AGE_MS ? edge : now
}

/** What a link does with frames: run the pipeline, or (benchmark floor) answer without doing any work. */
export interface LinkFrameHandler {
  handleFrame: AuthorizationPipeline['handleFrame']
}

/**
 * Run every frame of a batch at once and stream each answer as soon as it is ready: answers that become
 * ready in the same turn of the event loop leave in one write. The stream ends when every frame is
 * answered. A frame whose handling failed gets `error` (proxy-public then sends nothing for it, as when the
 * processor is unreachable); the failure is logged by code only.
 */
function answerStream(
  items: readonly BatchedFrame[],
  handle: (item: BatchedFrame) => Promise<FrameResult>,
  onFailure: (err: unknown) => void,
): PassThrough {
  const out = new PassThrough()
  let ready: Buffer[] = []
  let left = items.length
  let flushing = false
  const flush = (): void => {
    flushing = false
    // The caller went away (fastify destroyed the stream): the frames still finish, nothing is written.
    if (out.destroyed) return
    const chunk = ready.length === 1 ? ready[0]! : Buffer.concat(ready)
    ready = []
    if (left === 0) out.end(chunk)
    else out.write(chunk)
  }
  const emit = (answer: FrameAnswer): void => {
    ready.push(encodeFrameAnswer(answer))
    left--
    if (!flushing) {
      flushing = true
      setImmediate(flush)
    }
  }
  items.forEach((item, index) => {
    handle(item).then(
      (r) => emit(r.action === 'answer' ? { index, action: 'answer', frame: r.frame } : { index, action: r.action }),
      (err: unknown) => {
        onFailure(err)
        emit({ index, action: 'error' })
      },
    )
  })
  return out
}

/**
 * `POST /v1/links/:link/frames` (caller: proxy-public): body = one frame (BASE I header + ISO message, no
 * VMLH); answer 200 with the response frame, 204 when nothing is to be sent, 204 + `x-cardplane-link-action:
 * close` when the link should be dropped, 404 for an unknown link. The body is never logged.
 */
export async function registerLinkFrames(
  app: FastifyInstance,
  deps: { links: ReadonlyMap<string, LinkConfig>; pipeline: LinkFrameHandler; passthrough: LinkFrameHandler },
): Promise<void> {
  // The link a frame route names and what runs its frames (the pipeline, or the benchmark floor's
  // pass-through); undefined for an unknown link, which both routes answer 404.
  const linkOf = (name: string): { link: LinkConfig; handler: LinkFrameHandler } | undefined => {
    const link = deps.links.get(name)
    return link && { link, handler: link.mode === 'passthrough' ? deps.passthrough : deps.pipeline }
  }
  const unknownLink = { error: { code: 'link_unknown', message: 'unknown link' } }
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_FRAME }, (_req, body, done) => done(null, body))
    scope.post<{ Params: { link: string }; Body: Buffer }>(
      '/v1/links/:link/frames',
      { config: { callers: ['proxy-public'] } },
      async (request, reply) => {
        const target = linkOf(request.params.link)
        if (!target) return reply.code(404).send(unknownLink)
        if (!Buffer.isBuffer(request.body)) return reply.code(415).send({ error: { code: 'frame_body_required', message: 'application/octet-stream body required' } })
        const { link, handler } = target
        const receivedAt = edgeReceiptTime(request.headers[RECEIVED_AT_HEADER], Date.now())
        const result = await handler.handleFrame(link, request.body, new Date(receivedAt))
        switch (result.action) {
          case 'answer':
            return reply.code(200).header('content-type', 'application/octet-stream').send(result.frame)
          case 'none':
            return reply.code(204).send()
          case 'close':
            return reply.code(204).header(LINK_ACTION_HEADER, 'close').send()
        }
      },
    )
    // A group of frames the edge held together (its micro-batching): one request in, the answers streamed
    // back in the order they are ready. Format: @cardplane/contracts frame-batch. 400 for a malformed batch
    // (nothing of it is run); the body is never logged.
    scope.addContentTypeParser(FRAME_BATCH_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: FRAME_BATCH_MAX_BODY_BYTES }, (_req, body, done) => done(null, body))
    scope.post<{ Params: { link: string }; Body: Buffer }>(
      '/v1/links/:link/frame-batches',
      { config: { callers: ['proxy-public'] } },
      async (request, reply) => {
        const target = linkOf(request.params.link)
        if (!target) return reply.code(404).send(unknownLink)
        if (!Buffer.isBuffer(request.body)) return reply.code(415).send({ error: { code: 'frame_batch_body_required', message: `${FRAME_BATCH_CONTENT_TYPE} body required` } })
        let items: BatchedFrame[]
        try {
          items = decodeFrameBatch(request.body)
        } catch (err) {
          if (err instanceof FrameBatchError) return reply.code(400).send({ error: { code: err.code, message: err.message } })
          throw err
        }
        const { link, handler } = target
        const now = Date.now()
        const stream = answerStream(
          items,
          (item) => handler.handleFrame(link, item.frame, new Date(plausibleEdgeTime(item.receivedAt, now))),
          (err) => request.log.error({ code: (err as { code?: unknown }).code ?? (err as Error).name }, 'frame of a batch failed'),
        )
        return reply.code(200).header('content-type', FRAME_ANSWERS_CONTENT_TYPE).send(stream)
      },
    )
  })
}
