import type { Redis } from 'ioredis'
import type { VelocityRule } from './domain/card-state.js'

// INCR each window's counter and give new counters their TTL, atomically for all of a card's rules, in
// one round trip. EXPIRE only on creation: the window is fixed, so later increments must not extend it.
const INCR_WINDOWS = `
local out = {}
for i, key in ipairs(KEYS) do
  local c = redis.call('INCR', key)
  if c == 1 then redis.call('EXPIRE', key, tonumber(ARGV[i])) end
  out[i] = c
end
return out
`

/** Velocity counters per card in Redis (fixed windows aligned to the epoch). */
export class VelocityCounter {
  constructor(
    private readonly redis: Redis,
    /** Key prefix (per deployment; tests use a unique one). */
    private readonly prefix: string,
  ) {}

  /**
   * Count one attempt for `cardId` in each rule's current window and return the counts including it.
   * Callers count each authorisation once (replays return the stored decision before reaching this).
   */
  async hit(cardId: string, rules: readonly VelocityRule[], now: Date): Promise<{ maxCount: number; count: number }[]> {
    if (rules.length === 0) return []
    const seconds = Math.floor(now.getTime() / 1000)
    const keys = rules.map((r) => `${this.prefix}:vel:${cardId}:${r.windowSeconds}:${Math.floor(seconds / r.windowSeconds)}`)
    const ttls = rules.map((r) => String(r.windowSeconds + 1))
    const counts = (await this.redis.eval(INCR_WINDOWS, keys.length, ...keys, ...ttls)) as number[]
    return rules.map((r, i) => ({ maxCount: r.maxCount, count: Number(counts[i] ?? 0) }))
  }
}
