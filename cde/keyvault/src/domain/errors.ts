/**
 * Typed errors of the key service. Each has a stable `code` (what callers branch on), the HTTP status
 * Vault would answer with, and a public message that never contains key material, PINs, PANs, CVVs or
 * cryptograms. The shape matches service-kit's CardplaneError (code, statusCode, publicMessage, retry,
 * context), so `isCardplaneError` recognises these too.
 */
export class KeyvaultError extends Error {
  /** Stable, machine-readable code (snake_case). */
  readonly code: string
  /** HTTP status at the Vault API edge. */
  readonly statusCode: number
  /** Message safe for responses. */
  readonly publicMessage: string
  /** Whether retrying the same request later may succeed. */
  readonly retry: boolean
  /** Non-sensitive structured facts for logs. */
  readonly context: Record<string, unknown>

  constructor(code: string, statusCode: number, publicMessage: string, opts: { retry?: boolean; context?: Record<string, unknown>; cause?: unknown } = {}) {
    super(publicMessage, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = new.target.name
    this.code = code
    this.statusCode = statusCode
    this.publicMessage = publicMessage
    this.retry = opts.retry ?? false
    this.context = opts.context ?? {}
  }
}

/** 400: the request is malformed (bad hex, wrong length, missing field). */
export class InvalidRequestError extends KeyvaultError {
  constructor(code: string, publicMessage: string, context?: Record<string, unknown>) {
    super(code, 400, publicMessage, { context })
  }
}

/** 400: the key exists but its type/usage does not permit this operation (a CVK cannot decrypt a PIN block). */
export class KeyUsageError extends KeyvaultError {
  constructor(keyName: string, keyType: string, operation: string) {
    super('key_usage_violation', 400, `key "${keyName}" of type ${keyType} may not be used for ${operation}`, {
      context: { keyName, keyType, operation },
    })
  }
}

/** 403: missing, unknown, expired or revoked token, or the token's policies deny the path. */
export class PermissionDeniedError extends KeyvaultError {
  constructor(code = 'permission_denied', publicMessage = 'permission denied') {
    super(code, 403, publicMessage)
  }
}

/** 404: unknown key, policy or path. */
export class NotFoundError extends KeyvaultError {
  constructor(code: string, publicMessage: string) {
    super(code, 404, publicMessage)
  }
}

/** 405: the path exists but not for this operation. */
export class UnsupportedOperationError extends KeyvaultError {
  constructor(operation: string) {
    super('unsupported_operation', 405, `unsupported operation: ${operation}`)
  }
}

/** 409: state conflict (already initialised, duplicate custodian, key exists). */
export class ConflictError extends KeyvaultError {
  constructor(code: string, publicMessage: string) {
    super(code, 409, publicMessage)
  }
}

/** 503: the barrier is sealed; nothing behind it can be read or written. */
export class SealedError extends KeyvaultError {
  constructor() {
    super('sealed', 503, 'Vault is sealed', { retry: true })
  }
}

/** 400 at init/unseal time; 501 for health when not initialised is answered by the health route itself. */
export class NotInitializedError extends KeyvaultError {
  constructor() {
    super('not_initialized', 400, 'Vault is not initialized')
  }
}

/** 500: the request could not be audited, so it was not performed. */
export class AuditFailureError extends KeyvaultError {
  constructor(cause: unknown) {
    super('audit_failed', 500, 'request could not be audited and was not performed', { retry: true, cause })
  }
}
