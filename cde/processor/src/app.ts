import type { FastifyInstance } from 'fastify'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { ProcessorConfig } from './config.js'
import type { Authorization } from './authorization.js'
import { registerLinkFrames } from './routes/link-frames.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface ProcessorDeps {
  config: Pick<ProcessorConfig, 'LOG_LEVEL'>
  /** Trust bundles for validating callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  logger?: Logger
  /** The authorisation pipeline and its links (absent: the app serves no scheme links). */
  authorization?: Pick<Authorization, 'links' | 'pipeline' | 'passthrough'>
}

/**
 * The processor HTTP app. Routes:
 * - `GET /v1/probe`: callers allowed by the zone map's edges into `processor`
 * - `POST /v1/links/:link/frames` (proxy-public): one scheme frame in, the response frame out
 * - `/healthz`, `/readyz`, `/metrics` (public)
 */
export async function buildApp(deps: ProcessorDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'processor',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  registerProbe(app)
  if (deps.authorization) await registerLinkFrames(app, deps.authorization)
  return app
}
