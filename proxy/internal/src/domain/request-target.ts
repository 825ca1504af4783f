/**
 * Request-target normalisation for the internal proxy. The proxy matches routes on the path it
 * forwards, so the path is parsed from the raw request line, normalised once, and anything that
 * could make the proxy and the upstream disagree about which resource is meant is refused outright
 * rather than "cleaned": traversal (`..`, `%2e%2e`, `.%2e`), encoded or raw separators (`%2f`, `%5c`,
 * `\`), empty segments (`//`), double encoding (`%25..`), overlong or any non-ASCII UTF-8, matrix
 * parameters (`;`), NUL and control bytes, and anything that is not origin-form (absolute-form
 * `http://host/...`, authority-form, asterisk-form).
 */

/** Stable refusal codes; each one is logged and returned as the error code. */
export type TargetRefusal =
  | 'target_not_origin_form'
  | 'target_absolute_form'
  | 'target_control_char'
  | 'target_non_ascii'
  | 'target_backslash'
  | 'target_encoded_slash'
  | 'target_encoded_backslash'
  | 'target_encoded_nul'
  | 'target_double_encoding'
  | 'target_overlong_utf8'
  | 'target_encoded_dot'
  | 'target_bad_percent_encoding'
  | 'target_encoded_reserved'
  | 'target_dot_segment'
  | 'target_empty_segment'
  | 'target_path_parameter'
  | 'target_fragment'
  | 'target_too_long'

/** A target that passed every check: the normalised path and the query (without `?`, may be ''). */
export interface NormalisedTarget {
  path: string
  query: string
}

/** Result of {@link normaliseTarget}. */
export type TargetResult = { ok: true; target: NormalisedTarget } | { ok: false; code: TargetRefusal }

/** Characters allowed literally in a path segment (RFC 3986 unreserved + a few sub-delims). */
const SEGMENT_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@]*$/
/** Characters a percent-encoding may stand for in a path: unreserved letters and digits, `-`, `_`, `~`. */
const DECODABLE = /^[A-Za-z0-9\-_~]$/
const MAX_TARGET = 2048

function refuse(code: TargetRefusal): TargetResult {
  return { ok: false, code }
}

/**
 * Decode the percent-encodings of one path segment. Only encodings of harmless unreserved characters
 * are decoded; every other encoding gets its own refusal code so logs say what was attempted.
 */
function decodeSegment(segment: string): { ok: true; value: string } | { ok: false; code: TargetRefusal } {
  let out = ''
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!
    if (ch !== '%') {
      out += ch
      continue
    }
    const hex = segment.slice(i + 1, i + 3)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, code: 'target_bad_percent_encoding' }
    const byte = parseInt(hex, 16)
    i += 2
    if (byte === 0x00) return { ok: false, code: 'target_encoded_nul' }
    if (byte === 0x25) return { ok: false, code: 'target_double_encoding' }
    if (byte === 0x2f) return { ok: false, code: 'target_encoded_slash' }
    if (byte === 0x5c) return { ok: false, code: 'target_encoded_backslash' }
    if (byte === 0x2e) return { ok: false, code: 'target_encoded_dot' }
    // 0xC0/0xC1 lead bytes and 0xE0 0x80.. / 0xF0 0x80.. are the classic overlong forms of '/', '.', '\';
    // no route template holds non-ASCII, so every encoded byte >= 0x80 is refused, overlong named apart.
    if (byte >= 0x80) {
      const overlong = byte === 0xc0 || byte === 0xc1 || byte === 0xe0 || byte === 0xf0
      return { ok: false, code: overlong ? 'target_overlong_utf8' : 'target_non_ascii' }
    }
    if (byte < 0x20 || byte === 0x7f) return { ok: false, code: 'target_control_char' }
    const decoded = String.fromCharCode(byte)
    if (!DECODABLE.test(decoded)) return { ok: false, code: 'target_encoded_reserved' }
    out += decoded
  }
  return { ok: true, value: out }
}

/**
 * Parse and normalise a raw request-target (exactly as it appeared on the request line).
 * Returns the normalised path used for matching and forwarding, or the reason it was refused.
 */
export function normaliseTarget(raw: string): TargetResult {
  if (raw.length > MAX_TARGET) return refuse('target_too_long')
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    if (c <= 0x20 || c === 0x7f) return refuse('target_control_char')
    if (c >= 0x80) return refuse('target_non_ascii')
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw)) return refuse('target_absolute_form')
  if (!raw.startsWith('/')) return refuse('target_not_origin_form')
  if (raw.includes('#')) return refuse('target_fragment')
  const q = raw.indexOf('?')
  const rawPath = q === -1 ? raw : raw.slice(0, q)
  const query = q === -1 ? '' : raw.slice(q + 1)
  if (rawPath.includes('\\')) return refuse('target_backslash')
  if (rawPath.includes(';')) return refuse('target_path_parameter')
  // The query is forwarded as-is, so the encodings that matter to a decoding upstream are refused there too.
  const qLower = query.toLowerCase()
  if (qLower.includes('%00')) return refuse('target_encoded_nul')
  if (qLower.includes('%25')) return refuse('target_double_encoding')
  if (query.includes('\\')) return refuse('target_backslash')
  if (/%(c0|c1|e0|f0)/.test(qLower)) return refuse('target_overlong_utf8')

  const segments = rawPath.slice(1).split('/')
  const out: string[] = []
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!
    if (seg === '') {
      // "/" alone is the root; any other empty segment is "//" or a trailing slash.
      if (segments.length === 1) break
      return refuse('target_empty_segment')
    }
    const decoded = decodeSegment(seg)
    if (!decoded.ok) return refuse(decoded.code)
    if (decoded.value === '.' || decoded.value === '..') return refuse('target_dot_segment')
    if (!SEGMENT_CHAR.test(decoded.value)) return refuse('target_encoded_reserved')
    out.push(decoded.value)
  }
  return { ok: true, target: { path: `/${out.join('/')}`, query } }
}
