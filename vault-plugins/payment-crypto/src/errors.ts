/**
 * Stable machine-readable reasons for a payment-crypto failure. Callers (the key service) map these
 * to HTTP statuses; the set only grows, codes are never renamed.
 */
export type PaymentCryptoErrorCode =
  | 'invalid_hex'
  | 'invalid_key_length'
  | 'invalid_pan'
  | 'invalid_pin'
  | 'invalid_pin_block'
  | 'invalid_expiry'
  | 'invalid_service_code'
  | 'invalid_decimalization_table'
  | 'invalid_argument'
  | 'unsupported_format'
  | 'tr31_bad_header'
  | 'tr31_bad_length'
  | 'tr31_unsupported_version'
  | 'tr31_mac_mismatch'
  | 'tr31_bad_key_data'
  | 'not_implemented'

/**
 * The only error thrown by this package. The message names the offending field and the rule it
 * broke, never its value: inputs here are keys, PINs, PANs and cryptograms.
 */
export class PaymentCryptoError extends Error {
  override readonly name = 'PaymentCryptoError'
  /** Stable reason, safe to return to a caller. */
  readonly code: PaymentCryptoErrorCode
  /** Name of the input field at fault, when there is one (a field name, never a value). */
  readonly field: string | undefined
  /** Crypto failures are deterministic: retrying the same input cannot succeed. */
  readonly retry = false

  constructor(code: PaymentCryptoErrorCode, message: string, field?: string) {
    super(message)
    this.code = code
    this.field = field
  }
}

/** Type guard usable across package boundaries. */
export function isPaymentCryptoError(err: unknown): err is PaymentCryptoError {
  return err instanceof PaymentCryptoError
}
