import { Redis } from 'ioredis'

/**
 * Delete every Redis key that starts with `prefix`: what a test platform or benchmark left under its own
 * prefix (the processor's duplicate-window entries, kept for the window, an hour by default; BullMQ's
 * queue keys, some of which never expire). SCAN and UNLINK in pages, so a large run does not block Redis
 * the way KEYS and one DEL would. The prefix must be a run's own: it is matched literally (glob characters
 * in it are escaped), and an empty prefix is refused.
 */
export async function deleteKeysByPrefix(redis: Redis, prefix: string): Promise<number> {
  if (prefix === '') throw new Error('deleteKeysByPrefix: refusing an empty prefix')
  const pattern = `${prefix.replace(/[\\*?[\]^-]/g, (c) => `\\${c}`)}*`
  let cursor = '0'
  let deleted = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) deleted += await redis.unlink(...keys)
  } while (cursor !== '0')
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
