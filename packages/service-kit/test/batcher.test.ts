import t from 'tap'
import { createBatcher, type BatchOutcome } from '../src/batcher.js'

/** A run function whose batches the test releases by hand, recording what each batch held. */
function gated<I>() {
  const batches: I[][] = []
  const gates: (() => void)[] = []
  const run = async (items: I[]): Promise<BatchOutcome<string>[]> => {
    batches.push(items)
    await new Promise<void>((resolve) => gates.push(resolve))
    return items.map((i) => ({ ok: true, value: `done:${String(i)}` }))
  }
  const release = async (): Promise<void> => {
    gates.shift()?.()
    await new Promise((r) => setImmediate(r))
  }
  return { batches, run, release }
}
const tick = () => new Promise((r) => setImmediate(r))

void t.test('a free slot starts an item at once; items arriving while slots are busy leave together', async (t) => {
  const g = gated<number>()
  const b = createBatcher({ run: g.run, maxBatch: 3, maxConcurrent: 1 })
  const first = b.submit(1)
  await tick()
  t.same(g.batches, [[1]], 'the first item did not wait for company')
  const answers = [2, 3, 4, 5, 6].map((i) => b.submit(i))
  await tick()
  t.equal(b.waiting, 5)
  await g.release()
  t.same(g.batches, [[1], [2, 3, 4]], 'then at most maxBatch of the waiting ones')
  await g.release()
  await g.release()
  t.same(g.batches, [[1], [2, 3, 4], [5, 6]])
  t.same(await Promise.all([first, ...answers]), [1, 2, 3, 4, 5, 6].map((i) => `done:${i}`))
  t.equal(b.running, 0)
})

void t.test('items submitted in one synchronous stretch leave together even with slots free', async (t) => {
  const g = gated<number>()
  const b = createBatcher({ run: g.run, maxBatch: 3, maxConcurrent: 4 })
  const answers = [1, 2, 3, 4].map((i) => b.submit(i))
  await tick()
  t.same(g.batches, [[1, 2, 3], [4]])
  await g.release()
  await g.release()
  await Promise.all(answers)
})

void t.test('items submitted by separate callbacks of one event-loop turn leave together', async (t) => {
  const g = gated<string>()
  const b = createBatcher({ run: g.run, maxBatch: 8, maxConcurrent: 4 })
  // Three immediates queued together run in one check phase, each its own callback with microtasks run in
  // between (like the HTTP requests of one wake-up): one batch, not three. (Timers were used before; three
  // 1 ms timers created across a millisecond boundary fire in two phases, which a slow machine hit in CI.)
  const answers: Promise<string>[] = []
  await new Promise<void>((resolve) => {
    for (const x of ['a', 'b', 'c']) setImmediate(() => answers.push(b.submit(x)))
    setImmediate(resolve)
  })
  await tick()
  t.same(g.batches, [['a', 'b', 'c']])
  await g.release()
  t.same(await Promise.all(answers), ['done:a', 'done:b', 'done:c'])
})

void t.test('maxConcurrent batches run at once', async (t) => {
  const g = gated<number>()
  const b = createBatcher({ run: g.run, maxBatch: 10, maxConcurrent: 2 })
  const answers = [b.submit(1)]
  await tick()
  answers.push(b.submit(2))
  await tick()
  answers.push(b.submit(3), b.submit(4))
  await tick()
  t.same(g.batches, [[1], [2]])
  t.equal(b.running, 2)
  await g.release()
  t.same(g.batches, [[1], [2], [3, 4]])
  await g.release()
  await g.release()
  await Promise.all(answers)
})

void t.test('items sharing a key never share a batch and keep their order', async (t) => {
  const g = gated<string>()
  const b = createBatcher({ run: g.run, maxBatch: 10, maxConcurrent: 1, keys: (i: string) => [i.slice(0, 1)] })
  const answers = ['a1', 'b1', 'a2', 'c1', 'a3', 'b2'].map((i) => b.submit(i))
  await tick()
  t.same(g.batches[0], ['a1', 'b1', 'c1'])
  await g.release()
  t.same(g.batches[1], ['a2', 'b2'])
  await g.release()
  t.same(g.batches[2], ['a3'])
  await g.release()
  t.equal((await Promise.all(answers)).length, 6)
})

void t.test('an item error fails that item only; a run that throws fails its whole batch', async (t) => {
  const b = createBatcher<number, number>({
    maxBatch: 4,
    maxConcurrent: 1,
    run: async (items) => {
      if (items.includes(99)) throw new Error('batch broke')
      return items.map((i) => (i % 2 === 0 ? { ok: true, value: i * 10 } : { ok: false, error: new Error(`odd ${i}`) }))
    },
  })
  t.equal(await b.submit(2), 20)
  await t.rejects(b.submit(3), /odd 3/)
  const together = await Promise.allSettled([b.submit(1), b.submit(4)])
  t.same(together.map((r) => r.status), ['rejected', 'fulfilled'], 'in one batch: the odd one fails alone')
  const results = await Promise.allSettled([b.submit(4), b.submit(99), b.submit(6)])
  t.same(results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'fulfilled')), ['batch broke', 'batch broke', 'batch broke'])
  t.equal(await b.submit(8), 80, 'the batcher keeps serving after a failed batch')
})

void t.test('a run answering the wrong number of outcomes fails the unanswered items; bad options are refused', async (t) => {
  const b = createBatcher<number, number>({ maxBatch: 4, maxConcurrent: 1, run: async () => [] })
  await t.rejects(b.submit(1), /returned 0 outcomes for 1 items/)
  t.throws(() => createBatcher({ maxBatch: 0, maxConcurrent: 1, run: async () => [] }), RangeError)
})

void t.test('onBatch sees every batch size', async (t) => {
  const g = gated<number>()
  const sizes: number[] = []
  const b = createBatcher({ run: g.run, maxBatch: 8, maxConcurrent: 1, onBatch: (n) => sizes.push(n) })
  const answers = [b.submit(1)]
  await tick()
  answers.push(b.submit(2), b.submit(3))
  await tick()
  await g.release()
  await g.release()
  await Promise.all(answers)
  t.same(sizes, [1, 2])
})

void t.test('slotReleaseMs: a slow batch gives its slot up, the queue moves on', async (t) => {
  const g = gated<number>()
  const b = createBatcher({ run: g.run, maxBatch: 8, maxConcurrent: 1, slotReleaseMs: 30 })
  const answers = [b.submit(1)]
  await tick()
  answers.push(b.submit(2), b.submit(3))
  await tick()
  t.same(g.batches, [[1]])
  await new Promise((r) => setTimeout(r, 60))
  t.same(g.batches, [[1], [2, 3]], 'the waiting items left while the first batch still ran')
  await g.release()
  await g.release()
  t.same(await Promise.all(answers), ['done:1', 'done:2', 'done:3'])
  t.equal(b.running, 0)
})
