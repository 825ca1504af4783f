import type { FastifyInstance } from 'fastify'
import type { Pool } from 'pg'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { CardsConfig } from './config.js'
import type { IssuanceClients } from './domain/issuance.js'
import type { Program } from './domain/programs.js'
import { registerCardRoutes } from './routes/cards.js'
import { CardStore } from './store/card-store.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface CardsDeps {
  config: Pick<CardsConfig, 'LOG_LEVEL' | 'CARDS_REVEAL_BASE_URL'>
  /** Trust bundles for validating callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  pool: Pool
  programs: ReadonlyMap<string, Program>
  clients: IssuanceClients
  logger?: Logger
}

/**
 * The cards HTTP app. Routes: see routes/cards.ts (programs, issue, read, reveal / PIN sessions,
 * manufacturing status), `GET /v1/probe`, `/healthz`, `/readyz` (PostgreSQL), `/metrics`.
 */
export async function buildApp(deps: CardsDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'cards',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  app.readiness.add('postgres', async () => {
    await deps.pool.query('select 1')
  })
  registerProbe(app)
  registerCardRoutes(app, {
    programs: deps.programs,
    store: new CardStore(deps.pool),
    clients: deps.clients,
    revealBaseUrl: deps.config.CARDS_REVEAL_BASE_URL,
  })
  return app
}
