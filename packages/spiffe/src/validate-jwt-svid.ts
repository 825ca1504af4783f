import { compactVerify, importJWK, type JWK, type JWTPayload } from 'jose'
import { JwtSvidError } from './jwt-svid-error.js'
import { parseSpiffeId, SpiffeIdError } from './spiffe-id.js'
import type { JwtBundleSource } from './types.js'

/** The only JWS algorithms the SPIFFE JWT-SVID standard allows. */
export const JWT_SVID_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
] as const
/** One of {@link JWT_SVID_ALGORITHMS}. */
export type JwtSvidAlgorithm = (typeof JWT_SVID_ALGORITHMS)[number]

/**
 * Header parameters that would let the token choose its own key or change how it is processed
 * (`jku`/`jwk`/`x5u`/`x5c` key injection, `crit`/`b64` unencoded payloads, JWE's `enc`/`zip`).
 */
const FORBIDDEN_HEADERS = ['jku', 'jwk', 'x5u', 'x5c', 'crit', 'b64', 'enc', 'zip'] as const
/** A JWT-SVID is a few hundred bytes; anything this large is not one and is not worth parsing. */
const MAX_TOKEN_LENGTH = 8192
const B64URL_RE = /^[A-Za-z0-9_-]+$/
const EC_CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }

/** Options for {@link validateJwtSvid}. */
export interface ValidateJwtSvidOptions {
  /** The validator's own SPIFFE ID: the token's single `aud` must equal it. */
  audience: string
  /** The validator's trust domain: `sub` must belong to it. */
  trustDomain: string
  /** Where the trust domain's JWKS comes from. */
  bundles: Pick<JwtBundleSource, 'getBundle'>
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockToleranceSec?: number
  /** Clock in milliseconds since the epoch; defaults to Date.now (tests move it). */
  now?: () => number
  /**
   * Reuse the result of an earlier full validation of the same token for the same audience and trust
   * domain (default true). A hit still re-checks that the bundle holds the very same key object and
   * re-runs the exp/nbf/iat checks; only the deterministic parts (header rules, signature, aud) are skipped.
   */
  cache?: boolean
}

/** A validated JWT-SVID. */
export interface ValidatedJwtSvid {
  spiffeId: string
  claims: JWTPayload
}

function isJwtSvidAlgorithm(alg: unknown): alg is JwtSvidAlgorithm {
  return typeof alg === 'string' && (JWT_SVID_ALGORITHMS as readonly string[]).includes(alg)
}

function decodeSegment(seg: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'))
  } catch {
    throw new JwtSvidError('jwt_malformed', `token ${what} is not base64url JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtSvidError('jwt_malformed', `token ${what} is not a JSON object`)
  }
  return value as Record<string, unknown>
}

/** Public parameters only: the bundle may carry `use: jwt-svid`, which WebCrypto would refuse on import. */
function publicJwk(jwk: JWK, alg: JwtSvidAlgorithm): JWK {
  if (alg.startsWith('ES')) {
    if (jwk.kty !== 'EC' || jwk.crv !== EC_CURVES[alg]) {
      throw new JwtSvidError('jwt_key_alg_mismatch', `bundle key type does not match alg ${alg}`)
    }
    return { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }
  }
  if (jwk.kty !== 'RSA') throw new JwtSvidError('jwt_key_alg_mismatch', `bundle key type does not match alg ${alg}`)
  return { kty: 'RSA', n: jwk.n, e: jwk.e }
}

type ImportedKey = Awaited<ReturnType<typeof importJWK>>
/** Imported keys per bundle key object; bundles are replaced (not mutated) on update, so this never goes stale. */
const keyCache = new WeakMap<JWK, Map<JwtSvidAlgorithm, ImportedKey>>()

async function importBundleKey(jwk: JWK, alg: JwtSvidAlgorithm): Promise<ImportedKey> {
  let perAlg = keyCache.get(jwk)
  const hit = perAlg?.get(alg)
  if (hit) return hit
  const clean = publicJwk(jwk, alg)
  let key: ImportedKey
  try {
    key = await importJWK(clean, alg)
  } catch (err) {
    throw new JwtSvidError('jwt_key_alg_mismatch', `bundle key cannot be used with alg ${alg}`, { cause: err })
  }
  if (!perAlg) {
    perAlg = new Map()
    keyCache.set(jwk, perAlg)
  }
  perAlg.set(alg, key)
  return key
}

function numericDate(claims: Record<string, unknown>, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  const v = claims[name]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new JwtSvidError('jwt_malformed', `${name} claim is not a NumericDate`)
  }
  return v
}

function selectKey(bundles: ValidateJwtSvidOptions['bundles'], trustDomain: string, kid: string, alg: JwtSvidAlgorithm): JWK {
  const bundle = bundles.getBundle(trustDomain)
  if (!bundle || !Array.isArray(bundle.keys)) {
    throw new JwtSvidError('jwt_no_bundle', 'no JWT bundle for the trust domain')
  }
  const candidates = bundle.keys.filter((k) => k.kid === kid && k.use === 'jwt-svid')
  if (candidates.length !== 1) {
    throw new JwtSvidError('jwt_unknown_kid', 'kid is not a jwt-svid key of the trust domain bundle')
  }
  const jwk = candidates[0] as JWK
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new JwtSvidError('jwt_key_alg_mismatch', 'bundle key is bound to a different alg')
  }
  return jwk
}

function checkTimes(claims: Record<string, unknown>, options: ValidateJwtSvidOptions): void {
  const toleranceSec = options.clockToleranceSec ?? 30
  const nowSec = (options.now ? options.now() : Date.now()) / 1000
  const exp = numericDate(claims, 'exp')
  if (exp === undefined) throw new JwtSvidError('jwt_missing_exp', 'exp claim is required')
  if (exp + toleranceSec <= nowSec) throw new JwtSvidError('jwt_expired', 'token has expired')
  const nbf = numericDate(claims, 'nbf')
  if (nbf !== undefined && nbf - toleranceSec > nowSec) {
    throw new JwtSvidError('jwt_not_yet_valid', 'token is not valid yet (nbf)')
  }
  const iat = numericDate(claims, 'iat')
  if (iat !== undefined && iat - toleranceSec > nowSec) {
    throw new JwtSvidError('jwt_not_yet_valid', 'token was issued in the future (iat)')
  }
}

/** A fully validated token, remembered so that repeated presentations skip the signature check. */
interface VerifiedEntry {
  jwk: JWK
  kid: string
  alg: JwtSvidAlgorithm
  trustDomain: string
  spiffeId: string
  claims: JWTPayload
}
/** Callers reuse one SVID for minutes, so the same token arrives many times; bounded, oldest evicted first. */
const VERIFIED_CACHE_MAX = 10_000
const verifiedCache = new Map<string, VerifiedEntry>()

/**
 * Validate a JWT-SVID exactly as the SPIFFE JWT-SVID standard asks, and the Cardplane rules on top:
 * compact JWS with a protected header only; `alg` in RS/ES/PS 256/384/512; `typ`, if present, JWT or
 * JOSE; no `jku`/`jwk`/`x5u`/`x5c` (nor `crit`/`b64`); `kid` required and present in the bundle of the
 * token's trust domain with `use: jwt-svid`; `sub` a workload SPIFFE ID in `trustDomain`; `aud` present
 * with exactly one value equal to `audience`; `exp` present and not past; `nbf`/`iat` not in the future
 * (both with `clockToleranceSec` leeway). Throws {@link JwtSvidError}.
 */
export async function validateJwtSvid(token: string, options: ValidateJwtSvidOptions): Promise<ValidatedJwtSvid> {
  if (typeof token !== 'string' || token.length === 0) throw new JwtSvidError('jwt_missing_token', 'no token')
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtSvidError('jwt_malformed', 'token is too long')

  const useCache = options.cache !== false
  const cacheKey = `${options.trustDomain}\n${options.audience}\n${token}`
  const hit = useCache ? verifiedCache.get(cacheKey) : undefined
  if (hit) {
    try {
      // The signature only holds while the bundle still carries that exact key (rotation replaces objects).
      if (selectKey(options.bundles, hit.trustDomain, hit.kid, hit.alg) === hit.jwk) {
        checkTimes(hit.claims, options)
        return { spiffeId: hit.spiffeId, claims: hit.claims }
      }
    } catch (err) {
      verifiedCache.delete(cacheKey)
      throw err
    }
    verifiedCache.delete(cacheKey)
  }

  // JSON serialisations (with unprotected headers) and JWE (5 parts) are not JWT-SVIDs.
  const parts = token.split('.')
  if (parts.length !== 3) throw new JwtSvidError('jwt_malformed', 'token is not a compact JWS')
  const [h64, p64, s64] = parts as [string, string, string]
  if (!B64URL_RE.test(h64) || !B64URL_RE.test(p64)) {
    throw new JwtSvidError('jwt_malformed', 'token is not a compact JWS')
  }
  const header = decodeSegment(h64, 'header')

  if (!isJwtSvidAlgorithm(header.alg)) {
    throw new JwtSvidError('jwt_alg_not_allowed', 'alg must be one of RS256/384/512, ES256/384/512, PS256/384/512')
  }
  const alg = header.alg
  if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE') {
    throw new JwtSvidError('jwt_typ_not_allowed', 'typ must be JWT or JOSE when present')
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) throw new JwtSvidError('jwt_header_forbidden', `header parameter ${name} is not allowed`)
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) {
    throw new JwtSvidError('jwt_missing_kid', 'kid header is required')
  }
  const kid = header.kid
  if (!B64URL_RE.test(s64)) throw new JwtSvidError('jwt_signature_invalid', 'signature is missing or not base64url')

  // The bundle is chosen by the (not yet verified) subject's trust domain, as the standard describes;
  // only the callee's own trust domain is acceptable, so a foreign subject stops here.
  const unverified = decodeSegment(p64, 'payload')
  const sub = unverified.sub
  if (typeof sub !== 'string') throw new JwtSvidError('jwt_invalid_sub', 'sub claim is required')
  let subject
  try {
    subject = parseSpiffeId(sub)
  } catch (err) {
    const reason = err instanceof SpiffeIdError ? err.code : 'invalid'
    throw new JwtSvidError('jwt_invalid_sub', `sub is not a valid SPIFFE ID (${reason})`)
  }
  if (subject.path === '') throw new JwtSvidError('jwt_invalid_sub', 'sub is a trust domain, not a workload')
  if (subject.trustDomain !== options.trustDomain) {
    throw new JwtSvidError('jwt_foreign_trust_domain', 'sub belongs to a foreign trust domain')
  }

  const jwk = selectKey(options.bundles, subject.trustDomain, kid, alg)
  const key = await importBundleKey(jwk, alg)

  let payloadBytes: Uint8Array
  try {
    const verified = await compactVerify(token, key, { algorithms: [alg] })
    payloadBytes = verified.payload
  } catch (err) {
    throw new JwtSvidError('jwt_signature_invalid', 'signature verification failed', { cause: err })
  }
  // Re-decode what was signed (identical bytes to p64; decoded again so no unverified object is used).
  const claims = decodeSegment(Buffer.from(payloadBytes).toString('base64url'), 'payload') as JWTPayload

  const aud = claims.aud
  if (aud === undefined || (Array.isArray(aud) && aud.length === 0)) {
    throw new JwtSvidError('jwt_missing_aud', 'aud claim is required')
  }
  if (Array.isArray(aud) && aud.length > 1) {
    throw new JwtSvidError('jwt_multiple_aud', 'aud must hold exactly one audience')
  }
  const single: unknown = Array.isArray(aud) ? aud[0] : aud
  if (typeof single !== 'string' || single !== options.audience) {
    throw new JwtSvidError('jwt_aud_mismatch', 'aud is not this service')
  }

  checkTimes(claims, options)

  if (useCache) {
    if (verifiedCache.size >= VERIFIED_CACHE_MAX) {
      const oldest = verifiedCache.keys().next()
      if (!oldest.done) verifiedCache.delete(oldest.value)
    }
    Object.freeze(claims)
    verifiedCache.set(cacheKey, { jwk, kid, alg, trustDomain: subject.trustDomain, spiffeId: sub, claims })
  }
  return { spiffeId: sub, claims }
}
