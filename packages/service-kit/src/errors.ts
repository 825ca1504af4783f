/**
 * Typed errors shared by every service. A `CardplaneError` carries a stable `code` (the only thing
 * callers should branch on), a `retry` hint, the HTTP status it maps to, a `publicMessage` that is
 * safe to send to a caller, and a typed `context` for logs. The `message` (internal) goes to logs only;
 * it must never contain a PAN, CVV2, PIN block, track data or EMV cryptogram.
 */

/** Options shared by every CardplaneError constructor. */
export interface CardplaneErrorOptions<C> {
  /** Internal message for logs. Defaults to the public message. */
  message?: string
  /** Message safe to return to a caller. Defaults to a generic text per status. */
  publicMessage?: string
  /** Whether the same request may succeed if retried later. */
  retry?: boolean
  /** Structured, non-sensitive facts for logs. */
  context?: C
  /** Underlying error, kept for logs (serialized through the redacting logger). */
  cause?: unknown
}

const GENERIC_MESSAGES: Record<number, string> = {
  400: 'invalid request',
  401: 'authentication required',
  403: 'forbidden',
  404: 'not found',
  409: 'conflict',
  500: 'internal error',
  502: 'upstream failure',
  503: 'service unavailable',
  504: 'deadline exceeded',
}

/** Base class of every error Cardplane code throws on purpose. */
export class CardplaneError<C = Record<string, unknown>> extends Error {
  /** Stable, machine-readable code (snake_case). */
  readonly code: string
  /** Whether retrying the same request later may succeed. */
  readonly retry: boolean
  /** HTTP status this error maps to at an HTTP edge. */
  readonly statusCode: number
  /** Message safe for responses. */
  readonly publicMessage: string
  /** Non-sensitive structured facts for logs. */
  readonly context: C

  constructor(code: string, statusCode: number, opts: CardplaneErrorOptions<C> = {}) {
    const publicMessage = opts.publicMessage ?? GENERIC_MESSAGES[statusCode] ?? 'error'
    super(opts.message ?? publicMessage, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = new.target.name
    this.code = code
    this.statusCode = statusCode
    this.retry = opts.retry ?? false
    this.publicMessage = publicMessage
    this.context = opts.context ?? ({} as C)
  }
}

/** Whether a value is a CardplaneError (also across module copies). */
export function isCardplaneError(err: unknown): err is CardplaneError<unknown> {
  return (
    err instanceof CardplaneError ||
    (typeof err === 'object' &&
      err !== null &&
      typeof (err as { code?: unknown }).code === 'string' &&
      typeof (err as { statusCode?: unknown }).statusCode === 'number' &&
      typeof (err as { publicMessage?: unknown }).publicMessage === 'string')
  )
}

/** Context of a ConfigError: the variables that failed. Never their values (they may be secrets). */
export interface ConfigErrorContext {
  variables: { name: string; problem: string }[]
}

/** Configuration is missing or invalid; the process must not start. */
export class ConfigError extends CardplaneError<ConfigErrorContext> {
  constructor(variables: ConfigErrorContext['variables']) {
    const list = variables.map((v) => `${v.name}: ${v.problem}`).join('; ')
    super('config_invalid', 500, {
      message: `invalid configuration: ${list}`,
      publicMessage: 'service misconfigured',
      context: { variables },
    })
  }
}

/** The request is malformed (400). */
export class ValidationError<C = Record<string, unknown>> extends CardplaneError<C> {
  constructor(code = 'invalid_request', opts: CardplaneErrorOptions<C> = {}) {
    super(code, 400, opts)
  }
}

/** No or invalid credentials (401). */
export class UnauthorizedError<C = Record<string, unknown>> extends CardplaneError<C> {
  constructor(code = 'unauthorized', opts: CardplaneErrorOptions<C> = {}) {
    super(code, 401, opts)
  }
}

/** Valid credentials, but this caller may not do this (403). */
export class ForbiddenError<C = Record<string, unknown>> extends CardplaneError<C> {
  constructor(code = 'forbidden', opts: CardplaneErrorOptions<C> = {}) {
    super(code, 403, opts)
  }
}

/** The addressed resource does not exist (404). */
export class NotFoundError<C = Record<string, unknown>> extends CardplaneError<C> {
  constructor(code = 'not_found', opts: CardplaneErrorOptions<C> = {}) {
    super(code, 404, opts)
  }
}

/** The request conflicts with the current state (409). */
export class ConflictError<C = Record<string, unknown>> extends CardplaneError<C> {
  constructor(code = 'conflict', opts: CardplaneErrorOptions<C> = {}) {
    super(code, 409, opts)
  }
}

/** This service cannot serve now (503); retryable by default. */
export class UnavailableError<C = Record<string, unknown>> extends CardplaneError<C> {
  constructor(code = 'unavailable', opts: CardplaneErrorOptions<C> = {}) {
    super(code, 503, { retry: true, ...opts })
  }
}

/** A service this one depends on failed (502). */
export class UpstreamError<C = Record<string, unknown>> extends CardplaneError<C> {
  constructor(code = 'upstream_error', opts: CardplaneErrorOptions<C> = {}) {
    super(code, 502, opts)
  }
}

/** A deadline passed before the work finished (504); retryable by default. */
export class DeadlineError<C = Record<string, unknown>> extends CardplaneError<C> {
  constructor(code = 'deadline_exceeded', opts: CardplaneErrorOptions<C> = {}) {
    super(code, 504, { retry: true, ...opts })
  }
}
