import type { FastifyInstance } from 'fastify'
import type { Pool } from 'pg'
import { Gauge } from 'prom-client'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { CardVaultConfig } from './config.js'
import { DataKeyCache } from './keys/data-key-cache.js'
import type { KeyService } from './keys/key-service.js'
import { registerAdmin } from './routes/admin.js'
import { registerGetCard } from './routes/get-card.js'
import { registerIssueCards } from './routes/issue-cards.js'
import { registerSessions } from './routes/sessions.js'
import { registerVerify } from './routes/verify.js'
import { CardStore } from './store/card-store.js'
import { CardVault } from './vault/card-vault.js'
import { KeyManager } from './vault/key-manager.js'
import { startRewrapJob, type RewrapJob } from './vault/rewrap-job.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface CardVaultDeps {
  config: Pick<
    CardVaultConfig,
    'LOG_LEVEL' | 'CARD_VAULT_RECORDS_KEK' | 'CARD_VAULT_INDEX_KEK' | 'CARD_VAULT_REVEAL_TTL_SECONDS' | 'CARD_VAULT_REWRAP_INTERVAL_MS'
  > &
    Partial<Pick<CardVaultConfig, 'CARD_VAULT_PIN_KEY' | 'CARD_VAULT_KEY_REFRESH_MS'>>
  /** Trust bundles for validating callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  pool: Pool
  keys: KeyService
  logger?: Logger
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The rotation / rewrap job (tests and operators can run a pass now). */
    rewrap: RewrapJob
  }
}

/**
 * The card-vault HTTP app. Routes (callers: group 2 only):
 * - `POST /v1/cards` issue (processor) · `GET /v1/cards/:cardId` (processor, manufacturing)
 * - `POST /v1/verify` authorisation checks, `POST /v1/resolve` PAN -> card ID (processor)
 * - `POST /v1/cards/:cardId/sessions`, `POST /v1/sessions/reveal`, `/v1/sessions/pin`, `/v1/sessions/pin-reveal` (processor)
 * - `POST /v1/admin/index-key/replace` start a PAN index key replacement (processor, the operator path)
 * - `GET /v1/probe`, `/healthz`, `/readyz` (PostgreSQL, key service), `/metrics`
 */
export async function buildApp(deps: CardVaultDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'card-vault',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  const store = new CardStore(deps.pool)
  const cache = new DataKeyCache(store, deps.keys)
  const keyManager = new KeyManager(store, deps.keys, cache, {
    recordsKek: deps.config.CARD_VAULT_RECORDS_KEK,
    indexKek: deps.config.CARD_VAULT_INDEX_KEK,
    ...(deps.config.CARD_VAULT_KEY_REFRESH_MS ? { refreshMs: deps.config.CARD_VAULT_KEY_REFRESH_MS } : {}),
  })
  const vault = new CardVault(store, deps.keys, cache, keyManager, {
    revealTtlSeconds: deps.config.CARD_VAULT_REVEAL_TTL_SECONDS,
    ...(deps.config.CARD_VAULT_PIN_KEY ? { pinKeyName: deps.config.CARD_VAULT_PIN_KEY } : {}),
  })
  app.readiness.add('postgres', async () => {
    await deps.pool.query('select 1')
  })
  // Ready only once both data keys can be had: a vault that cannot unwrap cannot serve.
  app.readiness.add('data-keys', async () => {
    await keyManager.indexKey()
    await keyManager.recordKey()
  })
  const byKey = new Gauge({
    name: 'card_vault_records_by_data_key',
    help: 'Card records per data key id (after a rotation, old ids drain to zero as the rewrap job runs).',
    labelNames: ['data_key_id'] as const,
    registers: [app.metrics.registry],
    async collect() {
      this.reset()
      for (const [id, n] of Object.entries(await store.countByDek())) this.set({ data_key_id: id }, n)
    },
  })
  void byKey
  registerProbe(app)
  registerIssueCards(app, vault)
  registerGetCard(app, vault)
  registerVerify(app, vault)
  registerSessions(app, vault)
  registerAdmin(app, keyManager)
  const job = startRewrapJob(vault, keyManager, app.log, deps.config.CARD_VAULT_REWRAP_INTERVAL_MS)
  app.decorate('rewrap', job)
  app.addHook('onClose', async () => {
    await job.stop()
    cache.clear()
  })
  return app
}
