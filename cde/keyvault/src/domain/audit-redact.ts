import { createHmac, createSecretKey } from 'node:crypto'

/**
 * Sensitive values in audit entries become salted HMACs (`hmac-sha256:<hex>`), as Vault's audit
 * devices do: an auditor holding a suspected value can ask the service to HMAC it and compare, but the
 * log itself reveals nothing. Only fields on this allowlist are logged in clear; everything else that is
 * a string (PANs, PIN blocks, CVVs, key components, shares, plaintexts, tokens, cryptograms, ...) is
 * HMAC'd. An allowlist rather than a blocklist, so a new field is safe by default.
 */
const CLEAR_FIELDS = new Set([
  'name', 'type', 'key_type', 'usage', 'algorithm', 'version', 'key_version', 'latest_version',
  'min_decryption_version', 'min_encryption_version', 'exportable', 'deletion_allowed', 'valid', 'ok',
  'profile', 'kind', 'format', 'source_format', 'destination_format', 'custodian', 'custodians',
  'components_required', 'components_entered', 'complete', 'sealed', 'initialized', 't', 'n', 'progress',
  'secret_shares', 'secret_threshold', 'policies', 'policy_name', 'display_name', 'spiffe_id', 'ttl',
  'lease_duration', 'term', 'kcv', 'combined_kcv', 'zpk', 'source_key', 'destination_key', 'kbpk', 'zmk',
  'pvk', 'key_name', 'request_id', 'lease_id', 'pvki', 'pin_length', 'mode_of_use', 'key_usage', 'tr31_version', 'method',
  'mac_algorithm', 'bits', 'status', 'code', 'error', 'errors', 'batch_size', 'progress_nonce', 'renewable',
  'orphan', 'num_uses', 'standby', 'performance_standby', 'storage_type', 'version_string', 'reset',
])

export type Hmacer = (value: string) => string

/** HMAC-SHA256 under the audit salt; when sealed (no salt) values are replaced, never logged. */
export function hmacer(salt: Buffer | undefined): Hmacer {
  if (!salt) return () => 'redacted:sealed'
  // A KeyObject once, not the raw bytes per call: createHmac then skips re-importing the key.
  const key = createSecretKey(salt)
  return (value) => 'hmac-sha256:' + createHmac('sha256', key).update(value, 'utf8').digest('hex')
}

/** Copy of `data` with every non-allowlisted string replaced by its HMAC. */
export function redact(data: unknown, hmac: Hmacer): unknown {
  return walk(data, hmac, undefined)
}

function walk(v: unknown, hmac: Hmacer, field: string | undefined): unknown {
  if (v === null || v === undefined) return v
  const t = typeof v
  if (t === 'string') return field !== undefined && CLEAR_FIELDS.has(field) ? v : hmac(v as string)
  if (t === 'number' || t === 'boolean') return field !== undefined && CLEAR_FIELDS.has(field) ? v : hmac(String(v))
  if (Array.isArray(v)) return v.map((x) => walk(x, hmac, field))
  if (t === 'object') {
    // for...in over own keys: no [key, value] arrays per property (this runs twice per request).
    const src = v as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const k in src) if (Object.hasOwn(src, k)) out[k] = walk(src[k], hmac, k)
    return out
  }
  return hmac(String(v as string))
}
