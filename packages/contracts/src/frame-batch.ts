/**
 * Wire format of a group of scheme frames that proxy-public forwards to the processor in one request
 * (`POST /v1/links/:link/frame-batches`), and of the answers the processor streams back as each is ready.
 *
 * The frames are opaque scheme bytes (they may carry a PAN): this module only frames them, never reads
 * them, and its errors name sizes and positions, never content.
 *
 * Request body, repeated once per frame (at most {@link FRAME_BATCH_MAX_FRAMES}):
 *   u16 frame length (1..65535) · u48 edge receipt time (epoch ms) · frame bytes
 * Response body, one record per frame in the order the answers are ready (not the request order):
 *   u16 index into the request · u8 action (0 answer, 1 none, 2 close, 3 error) · u16 length · bytes
 * `length` is 0 for every action but `answer`.
 */

export const FRAME_BATCH_CONTENT_TYPE = 'application/vnd.cardplane.frame-batch'
export const FRAME_ANSWERS_CONTENT_TYPE = 'application/vnd.cardplane.frame-answers'
/** Most frames in one batch (proxy-public holds at most 16 by default). */
export const FRAME_BATCH_MAX_FRAMES = 64
/** Largest frame: the scheme's 2-byte length header bounds it. */
export const FRAME_BATCH_MAX_FRAME_BYTES = 0xffff
const ITEM_HEADER = 8
const ANSWER_HEADER = 5
/** Largest possible batch body, for the receiver's body limit. */
export const FRAME_BATCH_MAX_BODY_BYTES = FRAME_BATCH_MAX_FRAMES * (ITEM_HEADER + FRAME_BATCH_MAX_FRAME_BYTES)
const MAX_U48 = 2 ** 48 - 1

/** One frame of a batch, with the time its last byte reached the TCP edge. */
export interface BatchedFrame {
  frame: Buffer
  receivedAt: number
}

/** What the processor says about one frame of a batch; `error`: the frame failed (no answer is sent). */
export type FrameAnswer =
  | { index: number; action: 'answer'; frame: Buffer }
  | { index: number; action: 'none' }
  | { index: number; action: 'close' }
  | { index: number; action: 'error' }

/** A batch or an answer stream that does not follow the format; the message names sizes only. */
export class FrameBatchError extends Error {
  readonly code = 'frame_batch_malformed'
  constructor(message: string) {
    super(message)
    this.name = 'FrameBatchError'
  }
}

const ACTIONS = ['answer', 'none', 'close', 'error'] as const

/** Encode a batch; throws FrameBatchError for an empty or oversized batch, frame or timestamp. */
export function encodeFrameBatch(items: readonly BatchedFrame[]): Buffer {
  if (items.length === 0 || items.length > FRAME_BATCH_MAX_FRAMES) {
    throw new FrameBatchError(`a batch holds 1 to ${FRAME_BATCH_MAX_FRAMES} frames, not ${items.length}`)
  }
  let size = 0
  for (const item of items) size += ITEM_HEADER + item.frame.length
  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (const [i, item] of items.entries()) {
    const n = item.frame.length
    if (n === 0 || n > FRAME_BATCH_MAX_FRAME_BYTES) throw new FrameBatchError(`frame ${i}: length ${n} is outside 1..${FRAME_BATCH_MAX_FRAME_BYTES}`)
    if (!Number.isInteger(item.receivedAt) || item.receivedAt < 0 || item.receivedAt > MAX_U48) throw new FrameBatchError(`frame ${i}: receipt time is not an epoch millisecond`)
    out.writeUInt16BE(n, at)
    out.writeUIntBE(item.receivedAt, at + 2, 6)
    item.frame.copy(out, at + ITEM_HEADER)
    at += ITEM_HEADER + n
  }
  return out
}

/**
 * Decode a batch. The frames are views of `body` (no copy). Throws FrameBatchError for a batch that is
 * empty, has too many frames, a zero length, or a frame cut short by the end of the body.
 */
export function decodeFrameBatch(body: Buffer): BatchedFrame[] {
  const items: BatchedFrame[] = []
  let at = 0
  while (at < body.length) {
    if (items.length === FRAME_BATCH_MAX_FRAMES) throw new FrameBatchError(`more than ${FRAME_BATCH_MAX_FRAMES} frames`)
    if (body.length - at < ITEM_HEADER) throw new FrameBatchError(`frame ${items.length}: header cut short at byte ${at}`)
    const n = body.readUInt16BE(at)
    if (n === 0) throw new FrameBatchError(`frame ${items.length}: zero length`)
    const start = at + ITEM_HEADER
    if (start + n > body.length) throw new FrameBatchError(`frame ${items.length}: ${n} bytes announced, ${body.length - start} present`)
    items.push({ receivedAt: body.readUIntBE(at + 2, 6), frame: body.subarray(start, start + n) })
    at = start + n
  }
  if (items.length === 0) throw new FrameBatchError('empty batch')
  return items
}

/** Encode one answer record. */
export function encodeFrameAnswer(answer: FrameAnswer): Buffer {
  const payload = answer.action === 'answer' ? answer.frame : undefined
  const n = payload?.length ?? 0
  if (n > FRAME_BATCH_MAX_FRAME_BYTES) throw new FrameBatchError(`answer ${answer.index}: length ${n} over ${FRAME_BATCH_MAX_FRAME_BYTES}`)
  if (!Number.isInteger(answer.index) || answer.index < 0 || answer.index >= FRAME_BATCH_MAX_FRAMES) throw new FrameBatchError(`answer index ${answer.index} outside 0..${FRAME_BATCH_MAX_FRAMES - 1}`)
  const out = Buffer.allocUnsafe(ANSWER_HEADER + n)
  out.writeUInt16BE(answer.index, 0)
  out.writeUInt8(ACTIONS.indexOf(answer.action), 2)
  out.writeUInt16BE(n, 3)
  payload?.copy(out, ANSWER_HEADER)
  return out
}

/**
 * Reads answer records from a response body as its chunks arrive (a record may span chunks). `push`
 * returns the records completed by the chunk; `rest` is the number of bytes of an unfinished record.
 */
export class FrameAnswerReader {
  private buf: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): FrameAnswer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    const out: FrameAnswer[] = []
    let at = 0
    while (this.buf.length - at >= ANSWER_HEADER) {
      const index = this.buf.readUInt16BE(at)
      const code = this.buf.readUInt8(at + 2)
      const n = this.buf.readUInt16BE(at + 3)
      const action = ACTIONS[code]
      if (action === undefined) throw new FrameBatchError(`answer ${index}: unknown action ${code}`)
      if (action !== 'answer' && n !== 0) throw new FrameBatchError(`answer ${index}: action ${action} with ${n} bytes`)
      if (this.buf.length - at - ANSWER_HEADER < n) break
      const start = at + ANSWER_HEADER
      out.push(action === 'answer' ? { index, action, frame: Buffer.from(this.buf.subarray(start, start + n)) } : { index, action })
      at = start + n
    }
    this.buf = at === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at)
    return out
  }

  get rest(): number {
    return this.buf.length
  }
}
