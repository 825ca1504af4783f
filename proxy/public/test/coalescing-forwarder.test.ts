import t from 'tap'
import { coalescingForwarder, type FrameForwarder, type ForwardResult } from '../src/tcp/frame-forwarder.js'

/** The processor hop as a recorder: answers "R" + the frame, or fails frames starting with "X". */
function recorder(): FrameForwarder & { calls: string[]; closed: boolean } {
  const calls: string[] = []
  const r = {
    calls,
    closed: false,
    async forward(_link: string, frame: Buffer): Promise<ForwardResult> {
      calls.push(frame.toString())
      if (frame.toString().startsWith('X')) throw Object.assign(new Error('processor down'), { code: 'processor_error' })
      return { action: 'answer', frame: Buffer.concat([Buffer.from('R'), frame]) }
    },
    async close() {
      r.closed = true
    },
  }
  return r
}

const meta = { receivedAt: 0 }
const answer = (r: ForwardResult): string => (r.action === 'answer' ? r.frame.toString() : r.action)

t.test('off (0 ms) is the plain forwarder', async (t) => {
  const inner = recorder()
  t.equal(coalescingForwarder(inner, { windowMs: 0 }), inner)
})

t.test('a quiet link forwards at once; frames of a busy link wait for the window and leave together', async (t) => {
  let clock = 1000
  const inner = recorder()
  const f = coalescingForwarder(inner, { windowMs: 30, now: () => clock })
  const first = f.forward('visa', Buffer.from('a'), meta)
  t.same(inner.calls, ['a'], 'quiet link: no hold')
  clock += 5 // busy: another frame within the window
  const second = f.forward('visa', Buffer.from('b'), meta)
  clock += 5
  const third = f.forward('visa', Buffer.from('c'), meta)
  t.same(inner.calls, ['a'], 'held')
  t.equal(answer(await first), 'Ra')
  const [b, c] = await Promise.all([second, third])
  t.same(inner.calls, ['a', 'b', 'c'], 'released together, in arrival order')
  t.equal(answer(b), 'Rb', 'each frame gets its own answer')
  t.equal(answer(c), 'Rc')
  clock += 100 // quiet again
  const later = f.forward('visa', Buffer.from('d'), meta)
  t.same(inner.calls, ['a', 'b', 'c', 'd'], 'a quiet link goes straight through again')
  t.equal(answer(await later), 'Rd')
})

t.test('a failure stays with its frame; close releases what is held', async (t) => {
  let clock = 0
  const inner = recorder()
  const f = coalescingForwarder(inner, { windowMs: 10_000, now: () => clock })
  await f.forward('visa', Buffer.from('a'), meta)
  clock += 1
  const bad = f.forward('visa', Buffer.from('X1'), meta)
  const good = f.forward('visa', Buffer.from('b'), meta)
  t.same(inner.calls, ['a'])
  await f.close() // long window: only close releases them
  await t.rejects(bad, { code: 'processor_error' })
  t.equal(answer(await good), 'Rb')
  t.ok(inner.closed, 'closes the forwarder it wraps')
})

t.test('a burst of maxHeld frames leaves at once, without waiting for the window', async (t) => {
  let clock = 0
  const inner = recorder()
  const f = coalescingForwarder(inner, { windowMs: 10_000, maxHeld: 3, now: () => clock })
  await f.forward('visa', Buffer.from('a'), meta)
  clock += 1
  const burst = ['b', 'c'].map((x) => f.forward('visa', Buffer.from(x), meta))
  t.same(inner.calls, ['a'], 'two held')
  burst.push(f.forward('visa', Buffer.from('d'), meta))
  t.same(inner.calls, ['a', 'b', 'c', 'd'], 'the third fills the batch: released at once')
  t.same((await Promise.all(burst)).map(answer), ['Rb', 'Rc', 'Rd'])
  clock += 1
  const next = f.forward('visa', Buffer.from('e'), meta)
  t.same(inner.calls, ['a', 'b', 'c', 'd'], 'the link is still busy: the next frame opens a new window')
  await f.close()
  t.equal(answer(await next), 'Re')
})


/** A processor hop whose answers the test gives by hand: `answer(frame)` settles that frame's request. */
function manual(): FrameForwarder & { sent: string[]; answer(frame: string): void } {
  const waiting = new Map<string, (r: ForwardResult) => void>()
  const sent: string[] = []
  const one = (frame: Buffer): Promise<ForwardResult> =>
    new Promise((resolve) => {
      sent.push(frame.toString())
      waiting.set(frame.toString(), resolve)
    })
  return {
    sent,
    answer(frame) {
      waiting.get(frame)?.({ action: 'answer', frame: Buffer.from(`R${frame}`) })
    },
    forward: (_link, frame) => one(frame),
    forwardGroup: (_link, frames) => frames.map((f) => one(f.frame)),
    async close() {},
  }
}

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('extendMs: behind by two requests, the hold goes on until one is answered', async (t) => {
  let clock = 0
  const inner = manual()
  const f = coalescingForwarder(inner, { windowMs: 5, extendMs: 10_000, now: () => clock })
  const a = f.forward('visa', Buffer.from('a'), meta) // quiet: straight through, unanswered
  clock += 1
  const b = f.forward('visa', Buffer.from('b'), meta)
  while (inner.sent.length < 2) await tick(5) // the window ends: only one request unanswered, so b goes
  t.same(inner.sent, ['a', 'b'], 'one unanswered request is not behind')
  clock += 1
  const c = f.forward('visa', Buffer.from('c'), meta)
  clock += 1
  const d = f.forward('visa', Buffer.from('d'), meta)
  await tick(40) // the window ended long ago, but a and b are both unanswered
  t.same(inner.sent, ['a', 'b'], 'held past the window while two requests are unanswered')
  inner.answer('b')
  t.equal(answer(await b), 'Rb')
  await tick(0)
  t.same(inner.sent, ['a', 'b', 'c', 'd'], 'released as soon as one was answered, as one group')
  for (const x of ['a', 'c', 'd']) inner.answer(x)
  t.same((await Promise.all([a, c, d])).map(answer), ['Ra', 'Rc', 'Rd'])
})

t.test('extendMs: the extension has an end, and a full batch still leaves at once', async (t) => {
  let clock = 0
  const inner = manual()
  const f = coalescingForwarder(inner, { windowMs: 5, extendMs: 30, maxHeld: 3, now: () => clock })
  const first = [f.forward('visa', Buffer.from('a'), meta)]
  clock += 1
  first.push(f.forward('visa', Buffer.from('b'), meta))
  while (inner.sent.length < 2) await tick(5)
  clock += 1
  first.push(f.forward('visa', Buffer.from('c'), meta)) // behind by two: window, then the 30 ms extension
  while (inner.sent.length < 3) await tick(5)
  t.same(inner.sent, ['a', 'b', 'c'], 'three requests out, none answered')
  clock += 1
  const late = f.forward('visa', Buffer.from('d'), meta)
  const waited = Date.now()
  await tick(5)
  t.same(inner.sent, ['a', 'b', 'c'], 'held: behind')
  const r = late.then(answer)
  // Nobody answers a, b or c: the extension (30 ms after the 5 ms window) releases d on its own.
  while (inner.sent.length < 4) await tick(5)
  t.ok(Date.now() - waited >= 20, 'held for the extension, not only the window')
  inner.answer('d')
  t.equal(await r, 'Rd')
  clock += 1
  const burst = ['e', 'f', 'g'].map((x) => f.forward('visa', Buffer.from(x), meta))
  t.same(inner.sent.slice(4), ['e', 'f', 'g'], 'a full batch leaves at once even while behind')
  for (const x of ['a', 'b', 'c', 'e', 'f', 'g']) inner.answer(x)
  await Promise.all([...first, ...burst])
})

t.test('extendMs 0 (the default): the window alone decides', async (t) => {
  let clock = 0
  const inner = manual()
  const f = coalescingForwarder(inner, { windowMs: 5, now: () => clock })
  const out = [f.forward('visa', Buffer.from('a'), meta)]
  clock += 1
  out.push(f.forward('visa', Buffer.from('b'), meta))
  while (inner.sent.length < 2) await tick(5)
  clock += 1
  out.push(f.forward('visa', Buffer.from('c'), meta))
  while (inner.sent.length < 3) await tick(5)
  t.same(inner.sent, ['a', 'b', 'c'], 'c left at the end of its window with two requests unanswered')
  for (const x of ['a', 'b', 'c']) inner.answer(x)
  await Promise.all(out)
})
