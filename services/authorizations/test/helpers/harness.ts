import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { exampleAuthorizationRequest, type AuthorizationRequest } from '@cardplane/contracts'
import * as ledgerService from '@cardplane/ledger'
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { buildApp } from '../../src/app.js'
import { migrateDatabase, openDatabase, type AuthorizationsDatabase } from '../../src/db/client.js'
import type { SpendControls } from '../../src/domain/card-state.js'
import { httpLedger, type LedgerPort } from '../../src/ledger-client.js'
import { createTestDatabase, type TestDatabase } from '@cardplane/pg-kit/testing'
import { startTestIdentities, type TestIdentities } from '@cardplane/service-kit/testing'
import { loadZoneMap } from '@cardplane/zones'

/** The authorizations app wired to a real ledger over HTTP, real PostgreSQL, Redis and JWT-SVIDs. */
export interface Harness {
  app: FastifyInstance
  ledgerApp: FastifyInstance
  ledgerUrl: string
  ids: TestIdentities
  database: AuthorizationsDatabase
  redis: Redis
  /** Move the clock of both services. */
  setNow(d: Date): void
  /** HTTP call into authorizations as `caller` (null: no token). */
  call(caller: string | null, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<{ status: number; body: any }>
  /** HTTP call into the ledger as `caller`. */
  ledgerCall(caller: string, method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: any }>
  /** Open and fund a ledger account, register an active card on it; returns the ids. */
  card(opts?: { balance?: number; controls?: SpendControls; programId?: string; status?: string; currency?: string }): Promise<{
    cardId: string
    accountId: string
  }>
  /** A valid request for a card with a fresh authorizationId and network ids. */
  request(cardId: string, minor: number, over?: Partial<AuthorizationRequest>): AuthorizationRequest
  stop(): Promise<void>
}

let seq = 0

/**
 * Start everything. `ledger` lets a test replace the ledger port (e.g. one pointing at a dead port);
 * `batch` sets the decision batcher (default: the service's defaults).
 */
export async function startHarness(
  opts: { ledger?: (real: LedgerPort) => LedgerPort; batch?: { max: number; concurrency: number } } = {},
): Promise<Harness> {
  const run = randomBytes(3).toString('hex')
  let now = new Date('2026-11-22T10:00:00Z')
  const clock = () => now
  const authDb: TestDatabase = await createTestDatabase('authz')
  const ledgerDb: TestDatabase = await createTestDatabase('authz_ledger')
  const ids = await startTestIdentities(loadZoneMap())

  const ledgerDatabase = ledgerService.openDatabase(ledgerDb.url)
  await ledgerService.migrateDatabase(ledgerDatabase.pool)
  const ledgerApp = await ledgerService.buildApp({
    config: { LOG_LEVEL: 'silent', HOLD_TTL_SECONDS: 7 * 24 * 3600 },
    database: ledgerDatabase,
    bundles: ids.client('ledger'),
    zoneMap: ids.zoneMap,
    now: clock,
  })
  const ledgerUrl = await ledgerApp.listen({ host: '127.0.0.1', port: 0 })

  const database = openDatabase(authDb.url, 20)
  await migrateDatabase(database.pool)
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false })
  const prefix = `test:authz:${run}`
  const client: ServiceClient = createServiceClient({
    callee: 'ledger',
    zoneMap: ids.zoneMap,
    svids: ids.client('authorizations'),
    baseUrl: ledgerUrl,
    timeoutMs: 2000,
  })
  const real = httpLedger(client)
  const app = await buildApp({
    config: {
      LOG_LEVEL: 'silent',
      VELOCITY_KEY_PREFIX: prefix,
      ...(opts.batch ? { DECISION_BATCH_MAX: opts.batch.max, DECISION_BATCH_CONCURRENCY: opts.batch.concurrency } : {}),
    },
    database,
    redis,
    ledger: opts.ledger ? opts.ledger(real) : real,
    bundles: ids.client('authorizations'),
    zoneMap: ids.zoneMap,
    now: clock,
  })
  await app.ready()

  const call: Harness['call'] = async (caller, method, url, payload) => {
    const headers: Record<string, string> = caller ? { authorization: await ids.bearer(caller, 'authorizations') } : {}
    const res = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) })
    return { status: res.statusCode, body: res.body ? res.json() : undefined }
  }
  const ledgerCall: Harness['ledgerCall'] = async (caller, method, url, payload) => {
    const headers: Record<string, string> = { authorization: await ids.bearer(caller, 'ledger') }
    const res = await ledgerApp.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) })
    return { status: res.statusCode, body: res.json() }
  }

  return {
    app,
    ledgerApp,
    ledgerUrl,
    ids,
    database,
    redis,
    setNow(d) {
      now = d
    },
    call,
    ledgerCall,
    async card(o = {}) {
      const currency = o.currency ?? 'EUR'
      const n = ++seq
      const accountId = `acc_${run}_${n}`
      const cardId = `card_${run}_${n}`
      await ledgerCall('cards', 'POST', '/v1/accounts', { id: accountId, currency })
      if ((o.balance ?? 0) > 0) {
        await ledgerCall('cards', 'POST', `/v1/accounts/${accountId}/credits`, {
          idempotencyKey: `fund-${accountId}`,
          amount: { minor: o.balance, currency },
        })
      }
      const put = await call('cards', 'PUT', `/v1/cards/${cardId}`, {
        accountId,
        programId: o.programId ?? `prog_${run}`,
        status: o.status ?? 'active',
        currency,
        ...(o.controls ? { controls: o.controls } : {}),
      })
      if (put.status !== 200) throw new Error(`card setup failed: ${put.status} ${JSON.stringify(put.body)}`)
      return { cardId, accountId }
    },
    request(cardId, minor, over = {}) {
      const n = ++seq
      const base = exampleAuthorizationRequest()
      return exampleAuthorizationRequest({
        authorizationId: `auth_${run}_${n}`,
        cardId,
        amounts: { transaction: { minor, currency: 'EUR' }, cardholderBilling: { minor, currency: 'EUR' } },
        network: { ...base.network, stan: String(n % 1_000_000).padStart(6, '0'), transmissionTime: now.toISOString() },
        receivedAt: now.toISOString(),
        ...over,
      })
    },
    async stop() {
      await app.close()
      await client.close()
      await ledgerApp.close()
      await ledgerDatabase.close()
      await database.close()
      const keys = await redis.keys(`${prefix}:*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
      await ids.close()
      await authDb.drop()
      await ledgerDb.drop()
    },
  }
}
