import type { FastifyInstance } from 'fastify'
import type { AuthorizationPipeline } from '../pipeline/pipeline.js'
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
  if (!Number.isFinite(edge)) return now
  // A stamp ahead of our clock (nodes' clocks differ slightly) or too old to believe: count from now.
  return edge <= now && now - edge <= MAX_EDGE_AGE_MS ? edge : now
}

/** What a link does with frames: run the pipeline, or (benchmark floor) answer without doing any work. */
export interface LinkFrameHandler {
  handleFrame: AuthorizationPipeline['handleFrame']
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
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_FRAME }, (_req, body, done) => done(null, body))
    scope.post<{ Params: { link: string }; Body: Buffer }>(
      '/v1/links/:link/frames',
      { config: { callers: ['proxy-public'] } },
      async (request, reply) => {
        const link = deps.links.get(request.params.link)
        if (!link) return reply.code(404).send({ error: { code: 'link_unknown', message: 'unknown link' } })
        if (!Buffer.isBuffer(request.body)) return reply.code(415).send({ error: { code: 'frame_body_required', message: 'application/octet-stream body required' } })
        const receivedAt = edgeReceiptTime(request.headers[RECEIVED_AT_HEADER], Date.now())
        const handler = link.mode === 'passthrough' ? deps.passthrough : deps.pipeline
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
  })
}
