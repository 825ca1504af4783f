import { createHash } from 'node:crypto'

const MAX = 128

/**
 * An idempotency key derived from another (ledger operation ids built from advice or authorisation
 * ids). Deterministic, so a repeat derives the same key; shortened with a hash when it would exceed the
 * 128 characters identifiers may have.
 */
export function derivedKey(base: string, suffix: string): string {
  const key = `${base}:${suffix}`
  if (key.length <= MAX) return key
  const digest = createHash('sha256').update(key).digest('base64url').slice(0, 32)
  return `${base.slice(0, MAX - suffix.length - digest.length - 2)}:${suffix}:${digest}`
}
