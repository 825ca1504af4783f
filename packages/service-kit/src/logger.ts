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

/** Paths handed to pino `redact`: each key at the top level and up to three levels down, plus headers. */
export function redactPaths(keys: readonly string[] = SENSITIVE_KEYS): string[] {
  const paths: string[] = []
  for (const k of keys) {
    const p = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`
    const dot = p.startsWith('[') ? '' : '.'
    paths.push(p, `*${dot}${p}`, `*.*${dot}${p}`, `*.*.*${dot}${p}`)
  }
  paths.push(
    'req.headers.authorization',
    'req.headers.cookie',
    'req.headers["x-vault-token"]',
    'res.headers["set-cookie"]',
    'headers.authorization',
    'headers["x-vault-token"]',
  )
  return paths
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
 * - pino `redact` replaces known sensitive fields (SENSITIVE_KEYS) with "[REDACTED]";
 * - the `streamWrite` hook scrubs the finished JSON line, so every string in the object, the message,
 *   child bindings and serialized errors (message, stack, cause) pass the PAN scrubber. Working on the
 *   final line means no code path (serializer, child logger, fastify request log) can bypass it.
 * Times are ISO strings: an epoch-millisecond timestamp is 13 digits and could look like a PAN.
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths([...SENSITIVE_KEYS, ...(opts.extraSensitiveKeys ?? [])]), censor: '[REDACTED]' },
    serializers: { err: stdSerializers.errWithCause, error: stdSerializers.errWithCause },
    formatters: { level: (label) => ({ level: label }) },
    hooks: { streamWrite: scrubJsonLine },
  }
  return opts.destination ? pino(options, opts.destination) : pino(options)
}

export type { Logger } from 'pino'
