import { pino, stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from 'pino'
import { scrubJsonLine } from './pan-scrubber.js'

/** Log levels accepted by LOG_LEVEL. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/**
 * Field names that always hold sensitive authentication data or secrets, whatever their shape, and
 * are replaced wholesale. A CVV2 is three digits and a PIN block is hex: no pattern can find those,
 * so they are redacted by name. PANs are also caught by the scrubber wherever they appear.
 */
export const SENSITIVE_KEYS = [
  'pan',
  'cardNumber',
  'track1',
  'track2',
  'track3',
  'trackData',
  'cvv',
  'cvv2',
  'cvc2',
  'icvv',
  'pin',
  'pinBlock',
  'pvv',
  'emv',
  'emvData',
  'arqc',
  'iccData',
  'sensitive',
  'password',
  'secret',
  'token',
  'unsealKey',
  'authorization',
  'cookie',
  'x-vault-token',
] as const

/**
 * Header paths for pino `redact`. Exact paths only: wildcard paths make fast-redact walk every object
 * and cost an order of magnitude in throughput; field names at any depth are handled by redactFields.
 */
export const REDACT_HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-vault-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-vault-token"]',
]

const REDACTED = '[REDACTED]'
/** Deeper than this, values are replaced: log objects are shallow; a deep one is a mistake, not data. */
const MAX_DEPTH = 10

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * Copy of a log object with every field named in `keys` (case-insensitive, at any depth, inside arrays
 * and inside errors) replaced by "[REDACTED]". Plain objects, arrays and errors are walked; other class
 * instances (fastify's request and reply) are left to their serializers. Errors become their serialized
 * form (message, stack, cause, own fields) so their context is walked too. The input is never mutated.
 */
export function redactFields(value: unknown, keys: ReadonlySet<string>, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (seen.has(value)) return '[Circular]'
  if (depth > MAX_DEPTH) return '[Too deep]'
  const error = value instanceof Error
  if (!error && !Array.isArray(value) && !isPlainObject(value)) return value
  seen.add(value)
  // An error is walked in its serialized form (type, message, stack, cause, own fields such as context).
  const target: object = error ? (stdSerializers.errWithCause(value) as object) : value
  let out: unknown
  if (Array.isArray(target)) {
    out = target.map((v: unknown) => redactFields(v, keys, depth + 1, seen))
  } else {
    const obj: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(target)) {
      if (keys.has(k.toLowerCase())) obj[k] = REDACTED
      // The serializer's nested cause has its own prototype: copy it to a plain object to walk it.
      else if (error && k === 'cause' && typeof v === 'object' && v !== null) obj[k] = redactFields({ ...v }, keys, depth + 1, seen)
      else obj[k] = redactFields(v, keys, depth + 1, seen)
    }
    out = obj
  }
  seen.delete(value)
  return out
}

/** Options of createLogger. */
export interface CreateLoggerOptions {
  /** Service or component name, logged as `name`. */
  name: string
  /** Minimum level; defaults to `info`. */
  level?: LogLevel
  /** Where lines go; defaults to stdout. Any object with `write(line)` works (tests pass a collector). */
  destination?: DestinationStream
  /** Extra field names to redact, on top of SENSITIVE_KEYS. */
  extraSensitiveKeys?: string[]
}

/**
 * The one logger every service uses. Two halves of one redaction layer:
 * - known sensitive fields (SENSITIVE_KEYS, at any depth: `formatters.log` / `formatters.bindings` with
 *   redactFields, plus pino `redact` for header paths) are replaced with "[REDACTED]";
 * - the `streamWrite` hook scrubs the finished JSON line, so every string in the object, the message,
 *   child bindings and serialized errors (message, stack, cause) pass the PAN scrubber. Working on the
 *   final line means no code path (serializer, child logger, fastify request log) can bypass it.
 * Times are ISO strings: an epoch-millisecond timestamp is 13 digits and could look like a PAN.
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const keys = new Set([...SENSITIVE_KEYS, ...(opts.extraSensitiveKeys ?? [])].map((k) => k.toLowerCase()))
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_HEADER_PATHS, censor: REDACTED },
    // redactFields already turned errors into plain objects; serialize only what is still an Error.
    serializers: { err: serializeError, error: serializeError },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactFields(object, keys) as Record<string, unknown>,
    },
    hooks: { streamWrite: scrubJsonLine },
  }
  const logger = opts.destination ? pino(options, opts.destination) : pino(options)
  // pino applies formatters.bindings to the root only, never to child bindings (fastify's per-request
  // loggers, service code's child loggers): redact those on the way in. Children inherit from the
  // root through the prototype chain, so this one override covers grandchildren too.
  const pinoChild = logger.child
  Object.defineProperty(logger, 'child', {
    value: function child(this: Logger, bindings: Record<string, unknown>, childOptions?: object) {
      return pinoChild.call(this, redactFields(bindings, keys) as Record<string, unknown>, childOptions as never)
    },
  })
  return logger
}

function serializeError(e: unknown): unknown {
  return e instanceof Error ? stdSerializers.errWithCause(e) : e
}

export type { Logger } from 'pino'
