/** Why a JWT-SVID was refused. Stable codes: logged and returned to callers in 401 bodies. */
export type JwtSvidErrorCode =
  | 'jwt_missing_token'
  | 'jwt_malformed'
  | 'jwt_alg_not_allowed'
  | 'jwt_typ_not_allowed'
  | 'jwt_header_forbidden'
  | 'jwt_missing_kid'
  | 'jwt_invalid_sub'
  | 'jwt_foreign_trust_domain'
  | 'jwt_no_bundle'
  | 'jwt_unknown_kid'
  | 'jwt_key_alg_mismatch'
  | 'jwt_signature_invalid'
  | 'jwt_missing_aud'
  | 'jwt_multiple_aud'
  | 'jwt_aud_mismatch'
  | 'jwt_missing_exp'
  | 'jwt_expired'
  | 'jwt_not_yet_valid'

/**
 * A refused JWT-SVID. The message describes the rule that failed and never contains the token or
 * any claim value taken from it (claims of a refused token are attacker-controlled).
 */
export class JwtSvidError extends Error {
  readonly code: JwtSvidErrorCode
  constructor(code: JwtSvidErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'JwtSvidError'
    this.code = code
  }
}
