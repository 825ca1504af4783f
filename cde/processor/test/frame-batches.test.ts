// POST /v1/links/:link/frame-batches over real HTTP: a group of frames in, each answer streamed back as soon
// as it is ready. The pipeline is a scripted handler here (the real one is covered end to end in tools/sim).
import t from 'tap'
import { request } from 'undici'
import { decodeFrameBatch, encodeFrameBatch, FRAME_BATCH_CONTENT_TYPE, FrameAnswerReader, type FrameAnswer } from '@cardplane/contracts'
import { startTestIdentities } from '@cardplane/service-kit/testing'
import { loadZoneMap } from '@cardplane/zones'
import { buildApp } from '../src/app.js'
import type { FrameResult } from '../src/pipeline/pipeline.js'
import type { LinkConfig } from '../src/pipeline/types.js'
import { MAX_EDGE_AGE_MS } from '../src/routes/link-frames.js'

const zoneMap = loadZoneMap()
const ids = await startTestIdentities(zoneMap, ['processor', 'proxy-public', 'proxy-internal'])

/** Frames are "<delay ms>:<what>": the handler waits, then answers, says none, asks to close or fails. */
const seen: { frame: string; receivedAt: number }[] = []
const gates = new Map<string, () => void>()
async function handleFrame(_link: LinkConfig, frame: Buffer, receivedAt = new Date()): Promise<FrameResult> {
  const text = frame.toString()
  seen.push({ frame: text, receivedAt: receivedAt.getTime() })
  const [wait, what] = text.split(':') as [string, string]
  if (wait === 'gate') await new Promise<void>((resolve) => gates.set(what, resolve))
  else await new Promise((resolve) => setTimeout(resolve, Number(wait)))
  if (what === 'none') return { action: 'none' }
  if (what === 'close') return { action: 'close', problem: 'scripted' }
  if (what === 'fail') throw Object.assign(new Error('scripted failure'), { code: 'scripted_failure' })
  return { action: 'answer', frame: Buffer.from(`R${what}`) }
}
const links = new Map<string, LinkConfig>([['visa', { name: 'visa', scheme: 'visa', zpkName: 'zpk' }]])
const app = await buildApp({
  config: { LOG_LEVEL: 'silent' },
  bundles: ids.client('processor'),
  zoneMap,
  cdeCardVault: false,
  authorization: { links, pipeline: { handleFrame } as never, passthrough: { handleFrame } },
})
const base = await app.listen({ port: 0, host: '127.0.0.1' })
t.teardown(async () => {
  await app.close()
  await ids.close()
})

const frames = (...texts: string[]): { frame: Buffer; receivedAt: number }[] => texts.map((s) => ({ frame: Buffer.from(s), receivedAt: Date.now() }))

async function post(body: Buffer, opts: { link?: string; caller?: string } = {}) {
  return request(`${base}/v1/links/${opts.link ?? 'visa'}/frame-batches`, {
    method: 'POST',
    headers: { authorization: await ids.bearer(opts.caller ?? 'proxy-public', 'processor'), 'content-type': FRAME_BATCH_CONTENT_TYPE },
    body,
  })
}

const show = (a: FrameAnswer): string => `${a.index}:${a.action === 'answer' ? a.frame.toString() : a.action}`

t.test('every frame of a batch is answered, each as soon as it is ready', async (t) => {
  const res = await post(encodeFrameBatch(frames('gate:slow', '0:fast', '0:none', '0:close', '0:fail')))
  t.equal(res.statusCode, 200)
  const reader = new FrameAnswerReader()
  const got: string[] = []
  for await (const chunk of res.body) {
    got.push(...reader.push(chunk as Buffer).map(show))
    // The quick four are out while the first frame is still being worked on: nothing waits for the slowest.
    if (got.length === 4) {
      t.same([...got].sort(), ['1:Rfast', '2:none', '3:close', '4:error'], 'the four quick answers arrive first')
      gates.get('slow')!()
    }
  }
  t.same(got.at(-1), '0:Rslow', 'the slow one last')
  t.equal(got.length, 5)
  t.equal(reader.rest, 0)
})

t.test('a caller that goes away mid-stream costs nothing: the frames finish, the route keeps serving', async (t) => {
  seen.length = 0
  const res = await post(encodeFrameBatch(frames('0:quick', 'gate:abandoned')))
  const reader = new FrameAnswerReader()
  for await (const chunk of res.body) {
    t.same(reader.push(chunk as Buffer).map(show), ['0:Rquick'])
    break // leaves the loop: undici destroys the body and the connection
  }
  await new Promise((resolve) => setTimeout(resolve, 20))
  gates.get('abandoned')!()
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(seen.map((s) => s.frame), ['0:quick', 'gate:abandoned'], 'both frames were handled')
  const next = await post(encodeFrameBatch(frames('0:after')))
  t.same(new FrameAnswerReader().push(Buffer.from(await next.body.arrayBuffer())).map(show), ['0:Rafter'])
})

t.test("each frame keeps the edge's receipt time; an implausible one counts from now", async (t) => {
  seen.length = 0
  const old = Date.now() - 700
  const body = encodeFrameBatch([
    { frame: Buffer.from('0:a'), receivedAt: old },
    { frame: Buffer.from('0:b'), receivedAt: Date.now() - MAX_EDGE_AGE_MS - 10_000 },
  ])
  const before = Date.now()
  const res = await post(body)
  await res.body.arrayBuffer()
  t.equal(seen.find((s) => s.frame === '0:a')?.receivedAt, old)
  t.ok(seen.find((s) => s.frame === '0:b')!.receivedAt >= before, 'too old to believe: now')
})

t.test('a malformed batch is refused whole with 400; nothing of it runs', async (t) => {
  seen.length = 0
  const good = encodeFrameBatch(frames('0:x'))
  for (const body of [Buffer.alloc(0), good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([1])])]) {
    const res = await post(body)
    t.equal(res.statusCode, 400)
    const err = (await res.body.json()) as { error: { code: string } }
    t.equal(err.error.code, 'frame_batch_malformed')
  }
  t.same(seen, [], 'no frame was handled')
})

t.test('an unknown link is 404; only proxy-public may call', async (t) => {
  const body = encodeFrameBatch(frames('0:x'))
  const unknown = await post(body, { link: 'mastercard' })
  t.equal(unknown.statusCode, 404)
  await unknown.body.dump()
  const other = await post(body, { caller: 'proxy-internal' })
  t.equal(other.statusCode, 403)
  await other.body.dump()
})

t.test('the decoder hands the pipeline views of the body, not copies', async (t) => {
  const body = encodeFrameBatch(frames('0:a', '0:b'))
  const items = decodeFrameBatch(body)
  t.equal(items[0]!.frame.buffer, body.buffer)
})
