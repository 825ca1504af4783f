import type { FastifyInstance } from 'fastify'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { ProxyPublicConfig } from './config.js'
import { startReveal } from './reveal/index.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface ProxyPublicDeps {
  config: Pick<ProxyPublicConfig, 'LOG_LEVEL'>
  /** Trust bundles for validating callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  logger?: Logger
}

/**
 * The proxy-public HTTP app. Routes:
 * - `GET /v1/probe`: callers allowed by the zone map's edges into `proxy-public`
 * - `/healthz`, `/readyz`, `/metrics` (public)
 * - on its own HTTPS port: the cardholder reveal page (reveal/, started on ready, closed with the app)
 */
export async function buildApp(deps: ProxyPublicDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'proxy-public',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  registerProbe(app)
  startReveal(app, deps.config as Partial<ProxyPublicConfig>, deps.bundles)
  return app
}
