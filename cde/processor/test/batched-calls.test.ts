import t from 'tap'
import { batchedCalls } from '../src/clients/batched-calls.js'

void t.test('quiet: one call per item; busy: the waiting items go in one batch call with the latest deadline', async (t) => {
  const calls: { kind: 'one' | 'many'; items: number[]; timeoutMs: number }[] = []
  let release: (() => void) | undefined
  const call = batchedCalls<number, string>(
    { max: 8, concurrency: 1 },
    {
      async one(item, timeoutMs) {
        calls.push({ kind: 'one', items: [item], timeoutMs })
        await new Promise<void>((r) => (release = r))
        return `one:${item}`
      },
      async many(items, timeoutMs) {
        calls.push({ kind: 'many', items, timeoutMs })
        return items.map((i) => (i === 3 ? { ok: false, error: new Error('refused 3') } : { ok: true, value: `many:${i}` }))
      },
    },
  )
  const first = call(1, 1000)
  await new Promise((r) => setImmediate(r))
  const rest = [call(2, 100), call(3, 900), call(4, 300)]
  await new Promise((r) => setImmediate(r))
  t.same(calls.map((c) => c.kind), ['one'], 'the others wait for the slot')
  release!()
  t.equal(await first, 'one:1')
  const settled = await Promise.allSettled(rest)
  t.same(calls[1]!.items, [2, 3, 4])
  t.ok(calls[1]!.timeoutMs > 300 && calls[1]!.timeoutMs <= 900, `the batch runs to the latest deadline (${calls[1]!.timeoutMs} ms)`)
  t.match(settled, [{ status: 'fulfilled', value: 'many:2' }, { status: 'rejected', reason: { message: 'refused 3' } }, { status: 'fulfilled', value: 'many:4' }])
})

void t.test('max 1: every item its own call', async (t) => {
  let many = 0
  const call = batchedCalls<number, number>({ max: 1, concurrency: 1 }, { one: async (i) => i * 2, many: async () => (many++, []) })
  t.same(await Promise.all([1, 2, 3].map((i) => call(i, 100))), [2, 4, 6])
  t.equal(many, 0)
})
