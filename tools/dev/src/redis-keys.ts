import { Redis } from 'ioredis'

/**
 * Every Redis key that starts with `prefix`, a SCAN page at a time (never KEYS, which blocks Redis on a large
 * run). The prefix is matched literally (glob characters in it are escaped); an empty one is refused.
 */
export async function* keyPagesByPrefix(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  if (prefix === '') throw new Error('keyPagesByPrefix: refusing an empty prefix')
  const pattern = `${prefix.replace(/[\\*?[\]^-]/g, (c) => `\\${c}`)}*`
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) yield keys
  } while (cursor !== '0')
}

/**
 * Delete every Redis key that starts with `prefix`: what a test platform or benchmark left under its own
 * prefix (the processor's duplicate-window entries, kept for the window, an hour by default; BullMQ's
 * queue keys, some of which never expire). UNLINK page by page ({@link keyPagesByPrefix}), so a large run
 * does not block Redis the way KEYS and one DEL would. The prefix must be a run's own (an empty one is refused).
 */
export async function deleteKeysByPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0
  for await (const keys of keyPagesByPrefix(redis, prefix)) deleted += await redis.unlink(...keys)
  return deleted
}

/** {@link deleteKeysByPrefix} on its own connection (default REDIS_URL, else 127.0.0.1:6379). */
export async function deleteRedisKeys(prefix: string, url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    return await deleteKeysByPrefix(redis, prefix)
  } finally {
    redis.disconnect()
  }
}
