import type { FastifyInstance } from 'fastify'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { LedgerConfig } from './config.js'
import type { LedgerDatabase } from './db/client.js'
import { registerAccountRoutes } from './routes/accounts.js'
import { registerHoldRoutes } from './routes/holds.js'
import { LedgerStore } from './store/ledger-store.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface LedgerDeps {
  config: Pick<LedgerConfig, 'LOG_LEVEL' | 'HOLD_TTL_SECONDS'>
  database: LedgerDatabase
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  logger?: Logger
  /** Clock (tests). */
  now?: () => Date
}

/**
 * The ledger's HTTP app. Routes (callers from the zone map's edges into `ledger`):
 * - `POST /v1/accounts` (cards, console), `GET /v1/accounts/:accountId` (cards, console, authorizations)
 * - `POST /v1/accounts/:accountId/credits` (cards, console)
 * - `POST /v1/holds`, `POST /v1/holds/:holdId/increments` (authorizations)
 * - `GET /v1/holds/:holdId`, `POST /v1/holds/:holdId/releases`, `POST /v1/holds/:holdId/captures` (authorizations, console)
 * - `GET /v1/probe` (zone map callers), `/healthz`, `/readyz`, `/metrics`
 */
export async function buildApp(deps: LedgerDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'ledger',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  const store = new LedgerStore(deps.database, {
    holdTtlSeconds: deps.config.HOLD_TTL_SECONDS,
    ...(deps.now ? { now: deps.now } : {}),
  })
  app.readiness.add('postgres', async () => {
    await deps.database.pool.query('select 1')
  })
  registerProbe(app)
  registerAccountRoutes(app, store)
  registerHoldRoutes(app, store)
  return app
}
