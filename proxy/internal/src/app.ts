import type { FastifyInstance } from 'fastify'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { ProxyInternalConfig } from './config.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface ProxyInternalDeps {
  config: Pick<ProxyInternalConfig, 'LOG_LEVEL'>
  /** Trust bundles for validating callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  logger?: Logger
}

/**
 * The proxy-internal HTTP app. Routes:
 * - `GET /v1/probe`: callers allowed by the zone map's edges into `proxy-internal`
 * - `/healthz`, `/readyz`, `/metrics` (public)
 */
export async function buildApp(deps: ProxyInternalDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'proxy-internal',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  registerProbe(app)
  return app
}
