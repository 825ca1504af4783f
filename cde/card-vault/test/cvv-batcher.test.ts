import t from 'tap'
import { CvvBatcher, CvvItemError, type CvvBatchResult, type CvvVerifyItem } from '../src/keys/cvv-batcher.js'

/** A fake key service: a CVV is valid when it is '111'; cvv 'bad' is an item error; records every call. */
function fakeKeyService(opts: { failWith?: Error; delayMs?: number } = {}) {
  const calls: { cvk: string; items: CvvVerifyItem[] }[] = []
  let open = 0
  let maxOpen = 0
  const send = async (cvk: string, items: CvvVerifyItem[]): Promise<CvvBatchResult[]> => {
    calls.push({ cvk, items })
    open++
    maxOpen = Math.max(maxOpen, open)
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 5))
    open--
    if (opts.failWith) throw opts.failWith
    return items.map((i) => (i.cvv === 'bad' ? { error: 'invalid_digits: cvv must contain only decimal digits', code: 'invalid_digits' } : { valid: i.cvv === '111', key_version: 1 }))
  }
  return { send, calls, maxOpen: () => maxOpen }
}

t.test('checks arriving together go as one call per CVK; each caller gets its own verdict or error', async (t) => {
  const ks = fakeKeyService()
  const b = new CvvBatcher(ks.send, { maxBatch: 64 })
  const results = await Promise.allSettled([
    b.verify('cvk-a', { cvv: '111' }),
    b.verify('cvk-a', { cvv: '222' }),
    b.verify('cvk-b', { cvv: '111' }),
    b.verify('cvk-a', { cvv: 'bad' }),
    b.verify('cvk-a', { cvv: '111' }),
  ])
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as CvvItemError).code)),
    [true, false, true, 'invalid_digits', true],
  )
  t.ok(results[3]?.status === 'rejected' && results[3].reason instanceof CvvItemError, 'an item error is that item\'s rejection only')
  t.same(
    ks.calls.map((c) => [c.cvk, c.items.map((i) => i.cvv)]),
    [
      ['cvk-a', ['111', '222', 'bad', '111']],
      ['cvk-b', ['111']],
    ],
    'one call per CVK, items in arrival order',
  )
  t.same(b.stats, { calls: 2, items: 5 })
})

t.test('a failed call rejects every item of that batch with its error', async (t) => {
  const boom = new Error('key service down')
  const ks = fakeKeyService({ failWith: boom })
  const b = new CvvBatcher(ks.send, { maxBatch: 64 })
  const r = await Promise.allSettled([b.verify('cvk-a', { cvv: '111' }), b.verify('cvk-a', { cvv: '111' })])
  t.same(
    r.map((x) => x.status === 'rejected' && x.reason),
    [boom, boom],
  )
})

t.test('batches are capped at maxBatch, and at most maxInFlight calls per CVK are out at once', async (t) => {
  const ks = fakeKeyService({ delayMs: 20 })
  const b = new CvvBatcher(ks.send, { maxBatch: 3, maxInFlight: 2 })
  const all = await Promise.all(Array.from({ length: 20 }, (_, i) => b.verify('cvk-a', { cvv: i % 2 ? '111' : '000' })))
  t.same(all, Array.from({ length: 20 }, (_, i) => i % 2 === 1), 'every verdict back to its own caller')
  t.ok(ks.calls.every((c) => c.items.length <= 3), 'no batch above maxBatch')
  t.equal(ks.calls.reduce((n, c) => n + c.items.length, 0), 20, 'every item sent exactly once')
  t.ok(ks.maxOpen() <= 2, `at most 2 calls in flight (saw ${ks.maxOpen()})`)
})

t.test('a missing result is an error, never a verdict', async (t) => {
  const b = new CvvBatcher(async () => [{ valid: true }], { maxBatch: 8 })
  const r = await Promise.allSettled([b.verify('k', { cvv: '111' }), b.verify('k', { cvv: '111' })])
  t.equal(r[0]?.status, 'fulfilled')
  t.ok(r[1]?.status === 'rejected' && (r[1].reason as CvvItemError).code === 'missing_result')
})
