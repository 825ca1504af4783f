import t from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FrameSplitter, frame } from '@cardplane/iso8583'
import type { FrameForwarder, ForwardResult } from '../src/tcp/frame-forwarder.js'
import { DEV_VISA_LINK, type LinkListenerConfig } from '../src/tcp/link-config.js'
import { LinkListener, type LinkEvent } from '../src/tcp/link-listener.js'
import { registerLinkMetrics } from '../src/tcp/link-metrics.js'
import { Registry } from 'prom-client'

/**
 * A forwarder standing in for the processor hop: answers "R" + the frame after a delay given by the frame's
 * first byte (ms), asks to close for a frame starting with 0xFF, answers nothing for 0xFE.
 */
function echoForwarder(): FrameForwarder & { seen: number } {
  const f = {
    seen: 0,
    async forward(_link: string, payload: Buffer): Promise<ForwardResult> {
      f.seen++
      const first = payload[0]!
      if (first === 0xff) return { action: 'close' }
      if (first === 0xfe) return { action: 'none' }
      await new Promise((r) => setTimeout(r, first))
      return { action: 'answer', frame: Buffer.concat([Buffer.from('R'), payload]) }
    },
    close: async () => undefined,
  }
  return f
}

async function start(overrides: Partial<LinkListenerConfig> = {}) {
  const events: LinkEvent[] = []
  const forwarder = echoForwarder()
  const listener = new LinkListener({ ...DEV_VISA_LINK, port: 0, readTimeoutMs: 200, idleTimeoutMs: 2000, ...overrides }, forwarder, (e) => events.push(e))
  const port = await listener.listen()
  t.teardown(() => listener.close())
  return { listener, port, events, forwarder }
}

interface Client {
  socket: net.Socket
  frames: Buffer[]
  closed: Promise<void>
  next(n: number): Promise<Buffer[]>
}

async function connect(port: number): Promise<Client> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise((r) => socket.once('connect', r))
  const splitter = new FrameSplitter({ kind: 'vmlh', maxFrameSize: 65535 })
  const frames: Buffer[] = []
  let waiters: (() => void)[] = []
  socket.on('data', (chunk: Buffer) => {
    for (const ev of splitter.push(chunk)) if (ev.type === 'message') frames.push(Buffer.from(ev.payload))
    for (const w of waiters) w()
    waiters = []
  })
  socket.on('error', () => undefined)
  const closed = new Promise<void>((r) => socket.once('close', () => r()))
  t.teardown(() => socket.destroy())
  return {
    socket,
    frames,
    closed,
    async next(n) {
      while (frames.length < n) await new Promise<void>((r) => waiters.push(r))
      return frames.splice(0, n)
    },
  }
}

const msg = (delay: number, tag: string) => frame('vmlh', Buffer.concat([Buffer.from([delay]), Buffer.from(tag)]))

t.test('many messages in flight on one connection, each answer back on it (out of order)', async (t) => {
  const { port } = await start()
  const c = await connect(port)
  c.socket.write(Buffer.concat([msg(80, 'slow'), msg(1, 'fast'), msg(40, 'mid')]))
  const answers = (await c.next(3)).map((b) => b.subarray(2).toString())
  t.same(answers, ['fast', 'mid', 'slow'])
})

t.test('zero-length frames are keep-alive polls: ignored, the connection stays', async (t) => {
  const { port, listener, forwarder } = await start()
  const c = await connect(port)
  c.socket.write(Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from([0, 0, 0, 0]), msg(0, 'after')]))
  const [a] = await c.next(1)
  t.equal(a!.subarray(2).toString(), 'after')
  t.equal(listener.stats.keepalives, 2)
  t.equal(forwarder.seen, 1)
})

t.test('an announced length over the maximum closes that connection only', async (t) => {
  const { port, events } = await start({ maxFrameSize: 100 })
  const bad = await connect(port)
  const good = await connect(port)
  bad.socket.write(Buffer.from([0x01, 0x00, 0, 0]))
  await bad.closed
  t.ok(events.some((e) => e.reason === 'frame_too_large'))
  good.socket.write(msg(0, 'still'))
  t.equal((await good.next(1))[0]!.subarray(2).toString(), 'still')
})

t.test('a truncated (stalled) frame is closed after the read timeout; others keep being served', async (t) => {
  const { port, events } = await start({ readTimeoutMs: 150 })
  const slow = await connect(port)
  const other = await connect(port)
  const full = msg(0, 'never finished')
  slow.socket.write(full.subarray(0, 8))
  const started = Date.now()
  other.socket.write(msg(0, 'served'))
  t.equal((await other.next(1))[0]!.subarray(2).toString(), 'served')
  await slow.closed
  t.ok(Date.now() - started >= 140, 'closed after the read timeout')
  t.ok(events.some((e) => e.reason === 'read_timeout'))
})

t.test('a frame dribbled byte by byte must still complete within the read timeout', async (t) => {
  const { port, events } = await start({ readTimeoutMs: 150 })
  const c = await connect(port)
  const full = msg(0, 'dribbled-frame-content')
  let i = 0
  const timer = setInterval(() => {
    if (i < full.length && !c.socket.destroyed) c.socket.write(full.subarray(i, ++i))
  }, 20)
  await c.closed
  clearInterval(timer)
  t.ok(events.some((e) => e.reason === 'read_timeout'))
})

t.test('idle connections are closed; keep-alive polls keep them open', async (t) => {
  const { port, events } = await start({ idleTimeoutMs: 300 })
  const idle = await connect(port)
  const polled = await connect(port)
  const poll = setInterval(() => polled.socket.write(Buffer.from([0, 0, 0, 0])), 100)
  await idle.closed
  t.ok(events.some((e) => e.reason === 'idle_timeout'))
  polled.socket.write(msg(0, 'alive'))
  t.equal((await polled.next(1))[0]!.subarray(2).toString(), 'alive')
  clearInterval(poll)
})

t.test('connection limit: the connection over the limit is refused', async (t) => {
  const { port, listener } = await start({ maxConnections: 2 })
  const a = await connect(port)
  const b = await connect(port)
  await new Promise((r) => setTimeout(r, 50))
  const c = await connect(port)
  await c.closed
  t.equal(listener.openConnections, 2)
  a.socket.write(msg(0, 'a'))
  b.socket.write(msg(0, 'b'))
  t.equal((await a.next(1))[0]!.subarray(2).toString(), 'a')
  t.equal((await b.next(1))[0]!.subarray(2).toString(), 'b')
})

t.test('peers not on the allowlist are dropped at once', async (t) => {
  const { port, events } = await start({ allowedPeers: ['10.1.2.3'] })
  const c = await connect(port)
  await c.closed
  t.ok(events.some((e) => e.reason === 'peer_not_allowed'))
})

t.test('the processor can ask to close the connection; no-answer frames send nothing', async (t) => {
  const { port, events } = await start()
  const c = await connect(port)
  c.socket.write(frame('vmlh', Buffer.from([0xfe, 1, 2])))
  c.socket.write(msg(0, 'answered'))
  t.equal((await c.next(1))[0]!.subarray(2).toString(), 'answered')
  c.socket.write(frame('vmlh', Buffer.from([0xff, 1, 2])))
  await c.closed
  t.ok(events.some((e) => e.reason === 'processor_close'))
  t.equal(c.frames.length, 0)
})

t.test('in-flight limit pauses reading and resumes as answers go out', async (t) => {
  const { port } = await start({ maxInFlight: 2 })
  const c = await connect(port)
  c.socket.write(Buffer.concat([msg(30, '1'), msg(30, '2'), msg(30, '3'), msg(30, '4'), msg(30, '5')]))
  const got = (await c.next(5)).map((b) => b.subarray(2).toString()).sort()
  t.same(got, ['1', '2', '3', '4', '5'])
})

t.test('a frame split across the in-flight pause is not mistaken for a stalled one', async (t) => {
  const { port, events } = await start({ maxInFlight: 1, readTimeoutMs: 100 })
  const c = await connect(port)
  // The first message takes 250 ms to answer; the second arrives in two parts meanwhile. Reading is paused
  // (in-flight limit 1), so the second half waits in the kernel: no read timeout may fire.
  const second = msg(0, 'second')
  c.socket.write(msg(250, 'first'))
  c.socket.write(second.subarray(0, 5))
  await new Promise((r) => setTimeout(r, 30))
  c.socket.write(second.subarray(5))
  const got = (await c.next(2)).map((b) => b.subarray(2).toString())
  t.same(got.sort(), ['first', 'second'])
  t.notOk(events.some((e) => e.reason === 'read_timeout'))
})

t.test('TLS links: frames over TLS are answered like plain TCP', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'link-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
  const { port } = await start({ tls: { certFile, keyFile } })
  const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
  await new Promise((r) => socket.once('secureConnect', r))
  t.teardown(() => socket.destroy())
  const splitter = new FrameSplitter({ kind: 'vmlh', maxFrameSize: 65535 })
  const answer = new Promise<Buffer>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      for (const ev of splitter.push(chunk)) if (ev.type === 'message') resolve(Buffer.from(ev.payload))
    })
  })
  socket.write(msg(0, 'over tls'))
  t.equal((await answer).subarray(2).toString(), 'over tls')
})

t.test('link figures are exported for /metrics', async (t) => {
  const { port, listener } = await start({ maxFrameSize: 100 })
  const registry = new Registry()
  registerLinkMetrics(registry, [listener])
  const c = await connect(port)
  c.socket.write(Buffer.concat([Buffer.from([0, 0, 0, 0]), msg(0, 'm')]))
  await c.next(1)
  const bad = await connect(port)
  bad.socket.write(Buffer.from([0x01, 0x00, 0, 0]))
  await bad.closed
  const text = await registry.metrics()
  t.match(text, /scheme_link_connections_open\{link="visa"\} 1/)
  t.match(text, /scheme_link_frames_total\{link="visa",direction="in"\} 1/)
  t.match(text, /scheme_link_frames_total\{link="visa",direction="out"\} 1/)
  t.match(text, /scheme_link_keepalives_total\{link="visa"\} 1/)
  t.match(text, /scheme_link_connections_closed_total\{link="visa",reason="frame_too_large"\} 1/)
})
