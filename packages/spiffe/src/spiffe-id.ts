/**
 * SPIFFE ID parsing per the SPIFFE ID standard: `spiffe://<trust-domain>[/<segment>...]`.
 * The scheme is lowercase, the trust domain uses [a-z0-9._-] only (so no port, userinfo or uppercase),
 * path segments use [a-zA-Z0-9._-], are non-empty and never `.` or `..`; no query, fragment,
 * percent-encoding or trailing slash.
 */

/** Why a SPIFFE ID was refused. Stable codes; messages never echo the input. */
export type SpiffeIdErrorCode =
  | 'spiffe_id_empty'
  | 'spiffe_id_too_long'
  | 'spiffe_id_bad_scheme'
  | 'spiffe_id_bad_trust_domain'
  | 'spiffe_id_bad_path'

/** Raised by {@link parseSpiffeId}. */
export class SpiffeIdError extends Error {
  readonly code: SpiffeIdErrorCode
  constructor(code: SpiffeIdErrorCode, message: string) {
    super(message)
    this.name = 'SpiffeIdError'
    this.code = code
  }
}

/** A parsed SPIFFE ID. `path` is '' for a trust domain ID, otherwise starts with '/'. */
export interface SpiffeId {
  trustDomain: string
  path: string
}

const SCHEME = 'spiffe://'
/** The standard caps URIs at 2048 bytes and trust domain names at 255 characters. */
export const MAX_SPIFFE_ID_LENGTH = 2048
export const MAX_TRUST_DOMAIN_LENGTH = 255
const TRUST_DOMAIN_RE = /^[a-z0-9._-]+$/
const SEGMENT_RE = /^[a-zA-Z0-9._-]+$/

/** Validate a trust domain name (not a URI); throws SpiffeIdError. */
export function assertTrustDomain(td: string): void {
  if (td.length === 0) throw new SpiffeIdError('spiffe_id_bad_trust_domain', 'trust domain is empty')
  if (td.length > MAX_TRUST_DOMAIN_LENGTH) {
    throw new SpiffeIdError('spiffe_id_bad_trust_domain', 'trust domain is longer than 255 characters')
  }
  if (!TRUST_DOMAIN_RE.test(td)) {
    throw new SpiffeIdError(
      'spiffe_id_bad_trust_domain',
      'trust domain may only contain lowercase letters, digits, dots, dashes and underscores',
    )
  }
}

/** Parse and validate a SPIFFE ID. Throws {@link SpiffeIdError}. */
export function parseSpiffeId(id: string): SpiffeId {
  if (typeof id !== 'string' || id.length === 0) throw new SpiffeIdError('spiffe_id_empty', 'SPIFFE ID is empty')
  if (Buffer.byteLength(id, 'utf8') > MAX_SPIFFE_ID_LENGTH) {
    throw new SpiffeIdError('spiffe_id_too_long', 'SPIFFE ID is longer than 2048 bytes')
  }
  if (!id.startsWith(SCHEME)) throw new SpiffeIdError('spiffe_id_bad_scheme', 'SPIFFE ID must start with spiffe://')
  const rest = id.slice(SCHEME.length)
  const slash = rest.indexOf('/')
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash)
  const path = slash === -1 ? '' : rest.slice(slash)
  assertTrustDomain(trustDomain)
  if (path !== '') {
    // path starts with '/', so the first split element is always ''
    const segments = path.split('/').slice(1)
    for (const seg of segments) {
      if (seg.length === 0) throw new SpiffeIdError('spiffe_id_bad_path', 'SPIFFE ID path has an empty segment')
      if (seg === '.' || seg === '..') {
        throw new SpiffeIdError('spiffe_id_bad_path', 'SPIFFE ID path has a dot segment')
      }
      if (!SEGMENT_RE.test(seg)) {
        throw new SpiffeIdError(
          'spiffe_id_bad_path',
          'SPIFFE ID path segments may only contain letters, digits, dots, dashes and underscores',
        )
      }
    }
  }
  return { trustDomain, path }
}

/** True when `id` is a valid SPIFFE ID. */
export function isSpiffeId(id: string): boolean {
  try {
    parseSpiffeId(id)
    return true
  } catch {
    return false
  }
}

/** Trust domain name from a bundle map key, which may be a bare name or `spiffe://name`. */
export function trustDomainFromKey(key: string): string {
  const td = key.startsWith(SCHEME) ? key.slice(SCHEME.length) : key
  assertTrustDomain(td)
  return td
}

/** `spiffe://<td>`: the trust domain's own ID, used as the bundle map key on the Workload API. */
export function trustDomainId(td: string): string {
  assertTrustDomain(td)
  return SCHEME + td
}
