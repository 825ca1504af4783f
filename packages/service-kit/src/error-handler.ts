import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { isCardplaneError } from './errors.js'
import { scrubPan } from './pan-scrubber.js'

/** Body of every error response: a stable code and a message safe for the caller. */
export interface ErrorBody {
  error: { code: string; message: string }
}

/** Status, code and public message for any thrown value. */
export function mapError(err: unknown): { statusCode: number; body: ErrorBody; retry: boolean } {
  if (isCardplaneError(err)) {
    return { statusCode: err.statusCode, retry: err.retry, body: { error: { code: err.code, message: err.publicMessage } } }
  }
  const fe = err as Partial<FastifyError>
  if (fe.validation) {
    // Fastify's schema messages name the field and the rule, not the value; scrubbed anyway.
    return { statusCode: 400, retry: false, body: { error: { code: 'invalid_request', message: scrubPan(fe.message ?? 'invalid request') } } }
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = typeof fe.code === 'string' ? fe.code.replace(/^FST_ERR_/, '').toLowerCase() : 'bad_request'
    return { statusCode: fe.statusCode, retry: false, body: { error: { code, message: scrubPan(fe.message ?? 'bad request') } } }
  }
  return { statusCode: 500, retry: false, body: { error: { code: 'internal_error', message: 'internal error' } } }
}

/**
 * What the error handler does with an error, short of answering: map it (see {@link mapError}), count it
 * in `cardplane_errors_total`, and log it — server errors with the error (the logger scrubs it), client
 * errors at info without a stack. Batch routes call it for each item that failed, so a failed item is
 * counted and logged exactly as the same request failing alone would be.
 */
export function reportError(request: FastifyRequest, err: unknown): { statusCode: number; body: ErrorBody; retry: boolean } {
  const mapped = mapError(err)
  const code = mapped.body.error.code
  request.server.metrics.errorsTotal.inc({ code })
  if (mapped.statusCode >= 500) request.log.error({ err, code, retry: mapped.retry }, 'request failed')
  else request.log.info({ code, statusCode: mapped.statusCode }, 'request rejected')
  return mapped
}

/**
 * One place maps errors to HTTP: CardplaneErrors to their status and public message, fastify's own
 * 4xx errors to their status, anything else to 500 `internal_error` with no detail (see reportError).
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(async (err, request, reply) => {
    const { statusCode, body, retry } = reportError(request, err)
    if (retry && statusCode === 503) void reply.header('retry-after', '1')
    return reply.code(statusCode).send(body)
  })
  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).send({ error: { code: 'route_not_found', message: 'route not found' } } satisfies ErrorBody)
  })
}
