import { createHash, randomBytes } from 'node:crypto'
import type { Barrier } from './barrier.js'
import { PermissionDeniedError } from './errors.js'

/**
 * Tokens. A token is `hvs.` + 32 random bytes (base64url); only its SHA-256 is stored, under the
 * barrier, so a database dump yields no usable token. Tokens are cached in memory while unsealed; the
 * cache is dropped on seal.
 */
export interface TokenEntry {
  /** sha256 of the token, hex: storage key. */
  id: string
  accessor: string
  policies: string[]
  display_name: string
  meta: Record<string, string>
  /** Unix seconds. */
  creation_time: number
  /** Unix seconds; 0 = never (root token). */
  expire_time: number
  ttl: number
  /** Token that created this one (hashed), for `auth/token/create`. */
  parent?: string
}

const PREFIX = 'sys/token/id/'

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export class TokenStore {
  private cache = new Map<string, TokenEntry>()

  constructor(private readonly barrier: Barrier, private readonly now: () => number = () => Math.floor(Date.now() / 1000)) {}

  clear(): void {
    this.cache.clear()
  }

  /** Build a token and the storage op that persists it (so callers can batch it atomically). */
  prepare(opts: { policies: string[]; displayName: string; ttlSec: number; meta?: Record<string, string>; parent?: string }): { token: string; entry: TokenEntry } {
    const token = 'hvs.' + randomBytes(32).toString('base64url')
    const created = this.now()
    const entry: TokenEntry = {
      id: hashToken(token),
      accessor: randomBytes(12).toString('base64url'),
      policies: [...new Set(opts.policies)].sort(),
      display_name: opts.displayName,
      meta: opts.meta ?? {},
      creation_time: created,
      expire_time: opts.ttlSec > 0 ? created + opts.ttlSec : 0,
      ttl: opts.ttlSec,
      ...(opts.parent ? { parent: opts.parent } : {}),
    }
    return { token, entry }
  }

  async create(opts: Parameters<TokenStore['prepare']>[0]): Promise<{ token: string; entry: TokenEntry }> {
    const t = this.prepare(opts)
    await this.barrier.put(PREFIX + t.entry.id, t.entry)
    this.cache.set(t.entry.id, t.entry)
    return t
  }

  /** Persist an already-prepared token directly on a barrier (used during init). */
  static async persist(barrier: Barrier, entry: TokenEntry): Promise<void> {
    await barrier.put(PREFIX + entry.id, entry)
  }

  /** The entry for a presented token; 403 when unknown, revoked or expired. */
  async lookup(token: string | undefined): Promise<TokenEntry> {
    if (!token) throw new PermissionDeniedError('missing_token', 'permission denied: no token')
    const id = hashToken(token)
    let entry = this.cache.get(id)
    if (!entry) {
      entry = await this.barrier.getJson<TokenEntry>(PREFIX + id)
      if (!entry) throw new PermissionDeniedError('invalid_token', 'permission denied: invalid token')
      this.cache.set(id, entry)
    }
    if (entry.expire_time !== 0 && entry.expire_time <= this.now()) {
      this.cache.delete(id)
      await this.barrier.delete(PREFIX + id).catch(() => undefined)
      throw new PermissionDeniedError('token_expired', 'permission denied: token expired')
    }
    return entry
  }

  async revoke(entry: TokenEntry): Promise<void> {
    await this.barrier.delete(PREFIX + entry.id)
    this.cache.delete(entry.id)
  }

  /** Seconds left, for lookup-self. */
  ttlLeft(entry: TokenEntry): number {
    return entry.expire_time === 0 ? 0 : Math.max(0, entry.expire_time - this.now())
  }
}
