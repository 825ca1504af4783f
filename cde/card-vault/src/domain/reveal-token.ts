import { createHash, randomBytes } from 'node:crypto'

/**
 * Reveal-session tokens: 256 random bits, base64url. Only the SHA-256 of a token is stored, so the
 * database cannot be used to redeem sessions; redeeming is a single conditional UPDATE (once only).
 */
export function newRevealToken(): { token: string; hash: Buffer } {
  const token = `rvl_${randomBytes(32).toString('base64url')}`
  return { token, hash: hashRevealToken(token) }
}

/** Hash stored for a token. */
export function hashRevealToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/** Format check before touching the database. */
export function isRevealToken(token: string): boolean {
  return /^rvl_[A-Za-z0-9_-]{43}$/.test(token)
}
