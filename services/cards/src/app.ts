import type { FastifyInstance } from 'fastify'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { CardsConfig } from './config.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface CardsDeps {
  config: Pick<CardsConfig, 'LOG_LEVEL'>
  /** Trust bundles for validating callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  logger?: Logger
}

/**
 * The cards HTTP app. Routes:
 * - `GET /v1/probe`: callers allowed by the zone map's edges into `cards`
 * - `/healthz`, `/readyz`, `/metrics` (public)
 */
export async function buildApp(deps: CardsDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'cards',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  registerProbe(app)
  return app
}
