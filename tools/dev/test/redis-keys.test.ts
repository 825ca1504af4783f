import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { deleteRedisKeys, deleteKeysByPrefix, keyPagesByPrefix } from '../src/redis-keys.js'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

t.test('deletes every key under the prefix, in pages, and nothing else', async (t) => {
  const redis = new Redis(url)
  t.teardown(() => redis.disconnect())
  const run = `cardplane:test:redis-keys:${randomUUID()}`
  const prefix = `${run}:a:`
  // More keys than one SCAN page, a key that only shares the run, and a key whose name starts like the
  // prefix with a glob character where the prefix has a literal one.
  const pipe = redis.pipeline()
  for (let i = 0; i < 2500; i++) pipe.set(`${prefix}${i}`, '1', 'EX', 60)
  pipe.set(`${run}:b:kept`, '1', 'EX', 60)
  await pipe.exec()
  const glob = `${run}:[x]:`
  await redis.set(`${glob}1`, '1', 'EX', 60)
  await redis.set(`${run}:x:kept`, '1', 'EX', 60)

  const pages: string[][] = []
  for await (const page of keyPagesByPrefix(redis, prefix)) pages.push(page)
  t.ok(pages.length > 1, `listed in pages (${pages.length})`)
  t.equal(new Set(pages.flat()).size, 2500, 'every key under the prefix, none beside it')
  t.equal(await deleteKeysByPrefix(redis, prefix), 2500)
  t.equal(await redis.exists(`${prefix}0`, `${prefix}2499`), 0)
  t.equal(await redis.exists(`${run}:b:kept`), 1, 'a key outside the prefix stays')
  t.equal(await deleteKeysByPrefix(redis, glob), 1, '[x] in a prefix is literal')
  t.equal(await redis.exists(`${run}:x:kept`), 1, 'and matches no other key')
  t.equal(await deleteRedisKeys(`${run}:`), 2, 'the own-connection form deletes the rest')
  t.equal(await redis.exists(`${run}:b:kept`, `${run}:x:kept`), 0)
})

t.test('an empty prefix is refused', async (t) => {
  await t.rejects(deleteRedisKeys(''), /empty prefix/)
})
