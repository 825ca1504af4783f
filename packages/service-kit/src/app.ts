import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { spiffeAuth, type JwtBundleSource } from '@cardplane/spiffe'
import { serviceByName, type ZoneMap, type ZoneService } from '@cardplane/zones'
import { registerErrorHandler } from './error-handler.js'
import { registerHealth } from './health.js'
import { createLogger, type LogLevel, type Logger } from './logger.js'
import { registerMetrics } from './metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** This service's entry in the zone map (name, group, SPIFFE ID). */
    service: ZoneService
    /** The zone map the app was built with. */
    zoneMap: ZoneMap
  }
}

/** Options of createServiceApp. */
export interface ServiceAppOptions {
  /** Service name in the zone map. */
  service: string
  /** Parsed config; only LOG_LEVEL is read here. */
  config?: { LOG_LEVEL?: LogLevel }
  /** A ready logger (tests pass one writing to a collector); default: createLogger. */
  logger?: Logger
  /** Trust bundles to validate callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number
  /** Node process metrics in `/metrics` (default true). */
  defaultMetrics?: boolean
  /**
   * Add a readiness check that waits for the trust bundle (default true): a service that cannot
   * validate callers is not ready.
   */
  bundleReadiness?: boolean
}

/**
 * The fastify instance every service starts from: redacting logger, `/healthz`, `/readyz`, `/metrics`,
 * SPIFFE caller checks on every route (default deny), and the one error handler. Routes added after
 * this declare `config: { callers: [...] }` or `config: { public: true }`.
 */
export async function createServiceApp(opts: ServiceAppOptions): Promise<FastifyInstance> {
  const self = serviceByName(opts.zoneMap, opts.service)
  const logger = opts.logger ?? createLogger({ name: opts.service, level: opts.config?.LOG_LEVEL ?? 'info' })
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Give in-flight requests time to finish on close; new connections are refused at once.
    return503OnClosing: true,
  })
  app.decorate('service', self)
  app.decorate('zoneMap', opts.zoneMap)
  registerMetrics(app, { service: opts.service, defaultMetrics: opts.defaultMetrics ?? true })
  registerErrorHandler(app)
  await app.register(spiffeAuth, { self, zoneMap: opts.zoneMap, bundles: opts.bundles })
  registerHealth(app)
  if (opts.bundleReadiness !== false) app.readiness.add('spiffe-bundle', () => opts.bundles.ready())
  return app
}
