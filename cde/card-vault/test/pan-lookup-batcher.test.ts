import t from 'tap'
import type { CardRow } from '../src/store/card-store.js'
import { PanLookupBatcher } from '../src/vault/pan-lookup-batcher.js'

const row = (id: string): CardRow => ({ cardId: id, programId: 'p', lastFour: '0001', bin: '453991', status: 'active', pinSet: false, pinTries: 0, pinLocked: false, dekId: 1, indexKeyId: 1, record: Buffer.alloc(0) })

t.test('lookups of one turn share a query; each caller gets its own row (or none), also for the same HMAC twice', async (t) => {
  const queries: string[][] = []
  const known = new Map([['aa', row('c-aa')], ['bb', row('c-bb')]])
  const b = new PanLookupBatcher({
    findByPanHmacs: async (hmacs) => {
      queries.push(hmacs.map((h) => h.toString('hex')))
      return hmacs.map((h) => known.get(h.toString('hex')))
    },
  })
  const got = await Promise.all(['aa', 'cc', 'bb', 'aa'].map((k) => b.find(Buffer.from(k, 'hex'))))
  t.same(got.map((r) => r?.cardId), ['c-aa', undefined, 'c-bb', 'c-aa'])
  t.same(queries, [['aa', 'cc', 'bb', 'aa']], 'one query, one element per lookup in arrival order')
})

t.test('a failed query fails the lookups it carried, and later lookups run again', async (t) => {
  let fail = true
  const b = new PanLookupBatcher({
    findByPanHmacs: async () => {
      if (fail) throw new Error('db down')
      return [row('c-aa')]
    },
  })
  const r = await Promise.allSettled([b.find(Buffer.from('aa', 'hex')), b.find(Buffer.from('bb', 'hex'))])
  t.same(r.map((x) => x.status), ['rejected', 'rejected'])
  fail = false
  t.equal((await b.find(Buffer.from('aa', 'hex')))?.cardId, 'c-aa')
})

t.test('batches are capped and at most maxInFlight queries are out', async (t) => {
  let open = 0
  let maxOpen = 0
  const sizes: number[] = []
  const b = new PanLookupBatcher(
    {
      findByPanHmacs: async (hmacs) => {
        sizes.push(hmacs.length)
        maxOpen = Math.max(maxOpen, ++open)
        await new Promise((r) => setTimeout(r, 10))
        open--
        return hmacs.map((h) => row(`c-${h.toString('hex')}`))
      },
    },
    { maxBatch: 4, maxInFlight: 2 },
  )
  const keys = Array.from({ length: 19 }, (_, i) => i.toString(16).padStart(2, '0'))
  const got = await Promise.all(keys.map((k) => b.find(Buffer.from(k, 'hex'))))
  t.same(got.map((r) => r?.cardId), keys.map((k) => `c-${k}`))
  t.ok(sizes.every((n) => n <= 4))
  t.equal(sizes.reduce((a, n) => a + n, 0), 19)
  t.ok(maxOpen <= 2)
  t.same(b.stats, { queries: sizes.length, lookups: 19 })
})
