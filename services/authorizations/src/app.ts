import type { FastifyInstance } from 'fastify'
import type { AuthorizationRequest } from '@cardplane/contracts'
import type { Redis } from 'ioredis'
import { Histogram } from 'prom-client'
import { createBatcher, createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import { AdviceService } from './advice-service.js'
import type { AuthorizationsConfig } from './config.js'
import type { ServiceContext } from './context.js'
import type { AuthorizationsDatabase } from './db/client.js'
import { DecisionService } from './decision-service.js'
import type { LedgerPort } from './ledger-client.js'
import { ReversalService } from './reversal-service.js'
import { registerCardRoutes } from './routes/cards.js'
import { registerDecisionRoutes } from './routes/decisions.js'
import { VelocityCounter } from './velocity.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface AuthorizationsDeps {
  config: Pick<AuthorizationsConfig, 'LOG_LEVEL' | 'VELOCITY_KEY_PREFIX'> &
    Partial<Pick<AuthorizationsConfig, 'DECISION_BATCH_MAX' | 'DECISION_BATCH_CONCURRENCY'>>
  database: AuthorizationsDatabase
  redis: Redis
  ledger: LedgerPort
  bundles: JwtBundleSource
  zoneMap: ZoneMap
  logger?: Logger
  /** Clock (tests). */
  now?: () => Date
}

/**
 * The authorizations HTTP app. Routes:
 * - `POST /v1/decisions`, `POST /v1/advices`, `POST /v1/reversals` (proxy-internal)
 * - `PUT /v1/cards/:cardId`, `GET /v1/cards/:cardId`, `PUT /v1/programs/:programId` (cards, console)
 * - `GET /v1/authorizations/:authorizationId` (console, cards)
 * - `GET /v1/probe` (zone map callers), `/healthz`, `/readyz`, `/metrics`
 */
export async function buildApp(deps: AuthorizationsDeps): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'authorizations',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  const ctx: ServiceContext = {
    db: deps.database.db,
    pool: deps.database.pool,
    ledger: deps.ledger,
    velocity: new VelocityCounter(deps.redis, deps.config.VELOCITY_KEY_PREFIX),
    now: deps.now ?? (() => new Date()),
    log: app.log,
  }
  app.readiness.add('postgres', async () => {
    await deps.database.pool.query('select 1')
  })
  app.readiness.add('redis', async () => {
    await deps.redis.ping()
  })
  registerProbe(app)
  registerCardRoutes(app, ctx)
  const decisions = new DecisionService(ctx)
  const batchSize = new Histogram({
    name: 'authorization_decision_batch_size',
    help: 'Decisions per batch (one transaction, one ledger call); 1 while the service keeps up without waiting.',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [app.metrics.registry],
  })
  const batcher = createBatcher({
    run: (requests: AuthorizationRequest[]) => decisions.decideMany(requests),
    maxBatch: deps.config.DECISION_BATCH_MAX ?? 32,
    maxConcurrent: deps.config.DECISION_BATCH_CONCURRENCY ?? 4,
    // Decisions of one card run one after the other (limits, duplicates), and so do repeats of one id.
    keys: (r) => [`card:${r.cardId}`, `authorization:${r.authorizationId}`],
    onBatch: (size) => batchSize.observe(size),
    // A batch waiting on a card lock held elsewhere (an advice, a reversal) must not hold up the others.
    slotReleaseMs: 100,
  })
  registerDecisionRoutes(app, ctx, {
    decisions: { decide: (request) => batcher.submit(request) },
    advices: new AdviceService(ctx),
    reversals: new ReversalService(ctx),
  })
  return app
}
