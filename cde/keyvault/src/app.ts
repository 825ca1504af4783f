import { randomUUID } from 'node:crypto'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { KeyvaultConfig } from './config.js'
import type { Core } from './core.js'
import type { Operation } from './http/router.js'

/** What buildApp needs. */
export interface AppDeps {
  core: Core
  config: Pick<KeyvaultConfig, 'LOG_LEVEL'>
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  logger?: Logger
}

function operationOf(req: FastifyRequest): Operation | undefined {
  const q = req.query as Record<string, string | undefined>
  switch (req.method) {
    case 'GET':
      return q.list === 'true' || q.list === '1' ? 'list' : 'read'
    case 'POST':
    case 'PUT':
      return 'update'
    case 'DELETE':
      return 'delete'
    default:
      return undefined
  }
}

/**
 * Routes:
 * - `GET /v1/probe` (service-kit's zone-conformance probe, SPIFFE-authenticated, outside the seal);
 * - `GET|POST|PUT|DELETE /v1/*`: the Vault-compatible API, authenticated by `X-Vault-Token` (not by
 *   the SPIFFE route check, hence `public: true`), handled by `core.handle`;
 * - `/healthz`, `/readyz`, `/metrics` from service-kit.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({ service: 'keyvault', config: deps.config, bundles: deps.bundles, zoneMap: deps.zoneMap, ...(deps.logger ? { logger: deps.logger } : {}) })
  registerProbe(app)
  deps.core.onServerError = (err, req) => app.log.error({ err, cause: err.cause, code: err.code, requestId: req.id, path: req.path, operation: req.operation }, 'key service request failed')

  // The Vault API lives in its own encapsulated scope: its body parser and error handler (Vault's
  // `{errors: [...]}` shape) do not change service-kit's for /healthz, /metrics and /v1/probe.
  await app.register(async (scope) => vaultScope(scope, deps))
  return app
}

async function vaultScope(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Vault clients send `Content-Type: application/json` with empty bodies on some calls.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.trim() === '') return done(null, {})
    try {
      done(null, JSON.parse(text) as unknown)
    } catch {
      const err = new Error('request body is not valid JSON') as Error & { statusCode: number }
      err.statusCode = 400
      done(err, undefined)
    }
  })
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    // Parse errors and the like, before the core: answer in Vault's shape.
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    void reply.code(status).send({ errors: [status === 400 ? 'invalid_request: malformed request body' : 'internal: internal error'], code: status === 400 ? 'invalid_request' : 'internal' })
  })

  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    url: '/v1/*',
    config: { public: true },
    handler: async (req, reply) => {
      const op = operationOf(req)
      const path = ((req.params as { '*': string })['*'] ?? '').replace(/\/+$/, '')
      if (!op) return reply.code(405).send({ errors: ['unsupported_operation: unsupported operation'], code: 'unsupported_operation' })
      const body = req.body
      const data = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
      const tokenHeader = req.headers['x-vault-token']
      const res = await deps.core.handle({
        id: typeof req.id === 'string' ? req.id : randomUUID(),
        operation: op,
        path,
        data,
        query: req.query as Record<string, string>,
        token: typeof tokenHeader === 'string' && tokenHeader !== '' ? tokenHeader : undefined,
        remoteAddress: req.ip,
      })
      void reply.header('cache-control', 'no-store')
      if (res.body === undefined) return reply.code(res.status).send()
      return reply.code(res.status).send(res.body)
    },
  })
}
