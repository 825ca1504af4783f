// createFrameForwarder's forwardGroup over real HTTP against a server that plays the processor's
// `POST /v1/links/:link/frame-batches` (the real route is tested in cde/processor and end to end in tools/sim).
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeFrameBatch, encodeFrameAnswer, FRAME_BATCH_CONTENT_TYPE, type FrameAnswer } from '@cardplane/contracts'
import type { JwtSvidSource } from '@cardplane/spiffe'
import { coalescingForwarder, createFrameForwarder, type ForwardResult } from '../src/tcp/frame-forwarder.js'

type Script = (req: http.IncomingMessage, frames: string[], res: http.ServerResponse) => void
let script: Script = () => undefined
const requests: { path: string; contentType: string | undefined; auth: string | undefined; frames: string[]; receivedAt: number[] }[] = []
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const items = req.url?.endsWith('/frame-batches') ? decodeFrameBatch(Buffer.concat(chunks)) : [{ frame: Buffer.concat(chunks), receivedAt: 0 }]
    const frames = items.map((i) => i.frame.toString())
    requests.push({ path: req.url ?? '', contentType: req.headers['content-type'], auth: req.headers.authorization, frames, receivedAt: items.map((i) => i.receivedAt) })
    script(req, frames, res)
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const svids = { fetchJwtSvid: async () => ({ token: 'svid-token' }) } as unknown as JwtSvidSource
const forwarder = createFrameForwarder({ processorUrl: url, processorSpiffeId: 'spiffe://cardplane.test/processor', svids, timeoutMs: 2000 })
t.teardown(async () => {
  await forwarder.close()
  server.close()
})

const meta = (receivedAt: number) => ({ receivedAt })
const group = (...texts: string[]) => texts.map((s, i) => ({ frame: Buffer.from(s), meta: meta(1_764_900_000_000 + i) }))
const show = (r: PromiseSettledResult<ForwardResult>): string =>
  r.status === 'rejected' ? `rejected:${(r.reason as { code?: string }).code}` : r.value.action === 'answer' ? r.value.frame.toString() : r.value.action
const answer = (a: FrameAnswer) => encodeFrameAnswer(a)

t.test('one request for the group; each frame settles with its own answer as it streams in', async (t) => {
  requests.length = 0
  const order: number[] = []
  script = (_req, frames, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.cardplane.frame-answers' })
    // Answers out of order, one record split across two writes, the last one late.
    res.write(answer({ index: 2, action: 'none' }))
    const rec = answer({ index: 0, action: 'answer', frame: Buffer.from(`R${frames[0]}`) })
    res.write(rec.subarray(0, 3))
    res.write(Buffer.concat([rec.subarray(3), answer({ index: 3, action: 'close' }), answer({ index: 4, action: 'error' })]))
    setTimeout(() => res.end(answer({ index: 1, action: 'answer', frame: Buffer.from(`R${frames[1]}`) })), 50)
  }
  const results = forwarder.forwardGroup!('visa', group('a', 'b', 'c', 'd', 'e'))
  results.forEach((p, i) => p.then(() => order.push(i), () => order.push(i)))
  const settled = await Promise.allSettled(results)
  t.same(settled.map(show), ['Ra', 'Rb', 'none', 'close', 'rejected:processor_error'])
  t.equal(order.at(-1), 1, 'the late answer settles last; the others did not wait for it')
  t.equal(requests.length, 1, 'one request')
  t.equal(requests[0]!.path, '/v1/links/visa/frame-batches')
  t.equal(requests[0]!.contentType, FRAME_BATCH_CONTENT_TYPE)
  t.equal(requests[0]!.auth, 'Bearer svid-token', "the proxy's JWT-SVID")
  t.same(requests[0]!.receivedAt, [0, 1, 2, 3, 4].map((i) => 1_764_900_000_000 + i), "each frame's edge receipt time")
})

t.test('frames the processor did not answer fail: a short stream, a non-200, a corrupt stream, a dropped connection', async (t) => {
  const cases: [string, Script, string[]][] = [
    ['stream ends early', (_q, _f, res) => res.end(answer({ index: 1, action: 'none' })), ['rejected:processor_error', 'none']],
    ['503', (_q, _f, res) => res.writeHead(503).end('{"error":{}}'), ['rejected:processor_error', 'rejected:processor_error']],
    ['corrupt stream', (_q, _f, res) => res.end(Buffer.from([0, 0, 9, 0, 0])), ['rejected:frame_batch_malformed', 'rejected:frame_batch_malformed']],
    [
      'connection dropped after one answer',
      (_q, _f, res) => {
        res.writeHead(200)
        res.write(answer({ index: 0, action: 'none' }))
        setTimeout(() => res.socket?.destroy(), 20)
      },
      ['none', `rejected:${'UND_ERR_SOCKET'}`],
    ],
  ]
  for (const [name, s, want] of cases) {
    script = s
    const settled = await Promise.allSettled(forwarder.forwardGroup!('visa', group('x', 'y')))
    t.same(settled.map(show), want, name)
  }
})

t.test('a frame the format cannot carry fails the group at once, nothing is sent', async (t) => {
  requests.length = 0
  const settled = await Promise.allSettled(forwarder.forwardGroup!('visa', [{ frame: Buffer.alloc(0), meta: meta(1) }, { frame: Buffer.from('a'), meta: meta(1) }]))
  t.same(settled.map(show), ['rejected:frame_batch_malformed', 'rejected:frame_batch_malformed'])
  t.equal(requests.length, 0)
})

t.test('the coalescer sends a held group as one request, a lone frame on its own', async (t) => {
  requests.length = 0
  script = (req, frames, res) => {
    if (req.url?.endsWith('/frames')) return void res.writeHead(200).end(`R${frames[0]}`)
    res.writeHead(200)
    res.end(Buffer.concat(frames.map((f, index) => answer({ index, action: 'answer', frame: Buffer.from(`R${f}`) }))))
  }
  let clock = 0
  const f = coalescingForwarder(forwarder, { windowMs: 5, now: () => clock })
  const first = await f.forward('visa', Buffer.from('a'), meta(1))
  const held = ['b', 'c', 'd'].map((s) => f.forward('visa', Buffer.from(s), meta(2)))
  const settled = await Promise.allSettled(held)
  t.same([first, ...settled.map((s) => (s as PromiseFulfilledResult<ForwardResult>).value)].map((r) => (r.action === 'answer' ? r.frame.toString() : r.action)), ['Ra', 'Rb', 'Rc', 'Rd'])
  t.same(
    requests.map((r) => [r.path, r.frames]),
    [
      ['/v1/links/visa/frames', ['a']],
      ['/v1/links/visa/frame-batches', ['b', 'c', 'd']],
    ],
  )
})
