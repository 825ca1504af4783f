import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { VelocityCounter } from '../src/velocity.js'

const redis = new Redis('redis://127.0.0.1:6379')
const prefix = `test:vel:${randomBytes(4).toString('hex')}`
t.teardown(async () => {
  const keys = await redis.keys(`${prefix}:*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

void t.test('counts per card and window, with a TTL set once', async (t) => {
  const v = new VelocityCounter(redis, prefix)
  const rules = [
    { windowSeconds: 60, maxCount: 2 },
    { windowSeconds: 3600, maxCount: 10 },
  ]
  const now = new Date('2026-11-22T10:00:10Z')
  t.same(await v.hit('c1', rules, now), [
    { maxCount: 2, count: 1 },
    { maxCount: 10, count: 1 },
  ])
  t.same((await v.hit('c1', rules, now)).map((c) => c.count), [2, 2])
  t.same((await v.hit('c2', rules, now)).map((c) => c.count), [1, 1], 'other card, own counters')
  const keys = (await redis.keys(`${prefix}:vel:c1:*`)).sort()
  t.equal(keys.length, 2)
  for (const k of keys) {
    const ttl = await redis.ttl(k)
    t.ok(ttl > 0 && ttl <= 3601, `${k} expires (${ttl}s)`)
  }
  const nextMinute = new Date('2026-11-22T10:01:00Z')
  t.same((await v.hit('c1', rules, nextMinute)).map((c) => c.count), [1, 3], 'minute window rolled, hour did not')
  t.same(await v.hit('c1', [], now), [], 'no rules, no Redis call')
})

void t.test('concurrent hits are counted exactly once each', async (t) => {
  const v = new VelocityCounter(redis, prefix)
  const rules = [{ windowSeconds: 60, maxCount: 1000 }]
  const now = new Date('2026-11-22T12:00:00Z')
  const counts = await Promise.all(Array.from({ length: 50 }, () => v.hit('c3', rules, now)))
  t.same(
    counts.map((c) => c[0]!.count).sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i + 1),
  )
})
