import type { FastifyInstance } from 'fastify'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { ProcessorConfig } from './config.js'
import type { Authorization } from './authorization.js'
import { registerLinkFrames } from './routes/link-frames.js'
import { createServiceClient, serviceUrl, type ServiceClient } from '@cardplane/service-kit'
import type { JwtSvidSource } from '@cardplane/spiffe'
import { registerCdeRoutes } from './routes/cde-routes.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface ProcessorDeps {
  config: Pick<ProcessorConfig, 'LOG_LEVEL'>
  /** Trust bundles for validating callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  logger?: Logger
  /** The authorisation pipeline and its links (absent: the app serves no scheme links). */
  authorization?: Pick<Authorization, 'links' | 'pipeline' | 'passthrough'> & Partial<Pick<Authorization, 'ready'>>
  /**
   * Card-vault client of the CDE API routes (cde-*.ts). Default: one built from `bundles` (the Workload
   * API client is also the SVID source) and CARDPLANE_SERVICE_URLS; `false`: no CDE API routes.
   */
  cdeCardVault?: ServiceClient | false
}

/**
 * The processor HTTP app. Routes:
 * - `GET /v1/probe`: callers allowed by the zone map's edges into `processor`
 * - `POST /v1/links/:link/frames` (proxy-public): one scheme frame in, the response frame out
 * - CDE API (routes/cde-*.ts): `POST /v1/cde/cards`, `GET /v1/cde/cards/:cardId`, `POST .../reveal-sessions`,
 *   `POST .../pin-sessions` (proxy-internal, for cards); `POST /v1/cde/admin/index-key/replace` (proxy-internal, for
 *   console: the operator's PAN index key replacement); `POST /v1/cde/reveal`, `POST /v1/cde/pin` (proxy-public)
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
  if (deps.authorization) {
    await registerLinkFrames(app, deps.authorization)
    const ready = deps.authorization.ready
    if (ready) app.readiness.add('redis', () => ready())
  }
  const svids = deps.bundles as unknown as Partial<JwtSvidSource>
  const cardVault =
    deps.cdeCardVault === false
      ? undefined
      : (deps.cdeCardVault ??
        (typeof svids.fetchJwtSvid === 'function'
          ? createServiceClient({
              callee: 'card-vault',
              zoneMap: deps.zoneMap,
              svids: svids as JwtSvidSource,
              baseUrl: serviceUrl(deps.config as { CARDPLANE_SERVICE_URLS?: Record<string, string> }, deps.zoneMap, 'card-vault'),
              timeoutMs: 20_000,
            })
          : undefined))
  if (cardVault) {
    registerCdeRoutes(app, { cardVault, zoneMap: deps.zoneMap })
    if (deps.cdeCardVault === undefined) app.addHook('onClose', () => cardVault.close())
  }
  return app
}
