/**
 * Header checks on the raw header list (node's `rawHeaders`, so duplicates and original spelling are
 * visible). Refused: ambiguous framing (Content-Length together with Transfer-Encoding, repeated
 * Content-Length, any transfer coding but plain `chunked`), headers that ask a server to route
 * differently from the request line (X-HTTP-Method-Override, X-Original-URL, ...), client-supplied
 * forwarding headers (only the proxy itself may say who the caller was), a Host that is not this
 * proxy, and oversized header blocks.
 */

/** Stable refusal codes for header checks. */
export type HeaderRefusal =
  | 'framing_cl_and_te'
  | 'framing_duplicate_content_length'
  | 'framing_bad_content_length'
  | 'framing_bad_transfer_encoding'
  | 'header_method_override'
  | 'header_url_override'
  | 'header_spoofed_forwarding'
  | 'header_host_missing'
  | 'header_host_duplicate'
  | 'header_host_mismatch'
  | 'header_too_large'
  | 'header_too_many'

/** Limits and identity used by {@link checkHeaders}. */
export interface HeaderPolicy {
  /** Accepted Host header values (lower case, with port). */
  allowedHosts: ReadonlySet<string>
  /** Largest total size of names + values in bytes. */
  maxHeaderBytes: number
  /** Most header lines. */
  maxHeaderCount: number
}

const METHOD_OVERRIDE = new Set(['x-http-method-override', 'x-http-method', 'x-method-override'])
const URL_OVERRIDE = new Set(['x-original-url', 'x-rewrite-url', 'x-override-url', 'x-forwarded-path', 'x-envoy-original-path'])
/** Forwarding headers clients may not set; the proxy writes its own. */
const FORWARDING = new Set(['forwarded', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'x-cardplane-caller', 'via'])

/** Hop-by-hop headers (RFC 9110 §7.6.1) and connection-specific ones never forwarded. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/**
 * Check a raw header list. Returns the refusal code, or undefined when the headers are acceptable.
 */
export function checkHeaders(rawHeaders: readonly string[], policy: HeaderPolicy): HeaderRefusal | undefined {
  if (rawHeaders.length / 2 > policy.maxHeaderCount) return 'header_too_many'
  let bytes = 0
  let contentLength = 0
  let transferEncoding: string | undefined
  let hosts = 0
  let host: string | undefined
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    const value = rawHeaders[i + 1]!
    bytes += name.length + value.length + 4
    if (name === 'content-length') {
      contentLength++
      if (!/^\d{1,12}$/.test(value.trim())) return 'framing_bad_content_length'
    } else if (name === 'transfer-encoding') {
      if (transferEncoding !== undefined) return 'framing_bad_transfer_encoding'
      transferEncoding = value.trim().toLowerCase()
    } else if (METHOD_OVERRIDE.has(name)) {
      return 'header_method_override'
    } else if (URL_OVERRIDE.has(name)) {
      return 'header_url_override'
    } else if (FORWARDING.has(name) || name.startsWith('x-forwarded-')) {
      return 'header_spoofed_forwarding'
    } else if (name === 'host') {
      hosts++
      host = value.trim().toLowerCase()
    }
  }
  if (bytes > policy.maxHeaderBytes) return 'header_too_large'
  if (contentLength > 1) return 'framing_duplicate_content_length'
  if (contentLength === 1 && transferEncoding !== undefined) return 'framing_cl_and_te'
  if (transferEncoding !== undefined && transferEncoding !== 'chunked') return 'framing_bad_transfer_encoding'
  if (hosts === 0 || host === undefined) return 'header_host_missing'
  if (hosts > 1) return 'header_host_duplicate'
  if (!policy.allowedHosts.has(host)) return 'header_host_mismatch'
  return undefined
}

/**
 * Headers to forward from one hop to the next: drops hop-by-hop headers, every header the
 * `Connection` header names, and the ones the proxy sets itself (host, authorization, content-length).
 */
export function forwardableHeaders(rawHeaders: readonly string[], alsoDrop: ReadonlySet<string>): Record<string, string> {
  const named = new Set<string>()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') {
      for (const token of rawHeaders[i + 1]!.split(',')) {
        const t = token.trim().toLowerCase()
        if (t) named.add(t)
      }
    }
  }
  const out: Record<string, string> = {}
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    if (HOP_BY_HOP.has(name) || named.has(name) || alsoDrop.has(name)) continue
    out[name] = out[name] === undefined ? rawHeaders[i + 1]! : `${out[name]}, ${rawHeaders[i + 1]!}`
  }
  return out
}
