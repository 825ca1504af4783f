import type { Redis } from 'ioredis'
import type { StoredAnswer } from './types.js'

/** Result of claiming a duplicate key (`T`: what was stored as the answer; authorisations store decisions). */
export type Claim<T = StoredAnswer> =
  /** First time seen: this request must answer and then `publish`. */
  | { kind: 'owner' }
  /** Seen and answered: retransmission, answer the same. */
  | { kind: 'answered'; answer: T }
  /** Seen, still in flight (concurrent duplicate) and not answered before `waitUntil`. */
  | { kind: 'in_flight' }

const PENDING = 'pending'

/**
 * Duplicate transmissions (same DE 7 + DE 11 + DE 32) within a window, in Redis so every processor replica
 * sees the same window. The entry holds the decision only (no PAN, no SAD): a retransmission is answered
 * from it and never reaches the main cluster again, so no second hold is possible.
 */
export class DuplicateWindow {
  private readonly redis: Redis
  private readonly prefix: string
  private readonly windowMs: number
  private readonly pollMs: number
  private readonly pendingMs: number

  /**
   * `pendingMs`: how long an unanswered claim blocks the key (default 10 s, well past the deadline): if the
   * owner dies before publishing, a retransmission after that is processed again instead of getting 94
   * for the whole window.
   */
  constructor(opts: { redis: Redis; prefix: string; windowMs: number; pollMs?: number; pendingMs?: number }) {
    this.redis = opts.redis
    this.prefix = opts.prefix
    this.windowMs = opts.windowMs
    this.pollMs = opts.pollMs ?? 5
    this.pendingMs = Math.min(opts.pendingMs ?? 10_000, opts.windowMs)
  }

  private key(duplicateKey: string): string {
    return `${this.prefix}dup:${duplicateKey}`
  }

  /**
   * Claim the key (SET NX). If another request holds it, wait for its answer until `waitUntil` (epoch ms):
   * the original answers within the same deadline, so a concurrent duplicate normally gets its answer.
   */
  async claim<T = StoredAnswer>(duplicateKey: string, waitUntil: number): Promise<Claim<T>> {
    const key = this.key(duplicateKey)
    const set = await this.redis.set(key, PENDING, 'PX', this.pendingMs, 'NX')
    if (set === 'OK') return { kind: 'owner' }
    for (;;) {
      const v = await this.redis.get(key)
      if (v === null) {
        // Expired or released between our SET and GET: try to become the owner again.
        const again = await this.redis.set(key, PENDING, 'PX', this.pendingMs, 'NX')
        if (again === 'OK') return { kind: 'owner' }
        continue
      }
      if (v !== PENDING) return { kind: 'answered', answer: JSON.parse(v) as T }
      if (Date.now() + this.pollMs >= waitUntil) return { kind: 'in_flight' }
      await new Promise((r) => setTimeout(r, this.pollMs))
    }
  }

  /** Store the answer for retransmissions (keeps the window's expiry). */
  async publish<T = StoredAnswer>(duplicateKey: string, answer: T): Promise<void> {
    await this.redis.set(this.key(duplicateKey), JSON.stringify(answer), 'PX', this.windowMs)
  }

  /** Drop a claim that produced no answer worth repeating (e.g. the request could not be answered). */
  async release(duplicateKey: string): Promise<void> {
    await this.redis.del(this.key(duplicateKey))
  }
}
