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

const meta = { peer: '127.0.0.1', receivedAt: 0 }
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

