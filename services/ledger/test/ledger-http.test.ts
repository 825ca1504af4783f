import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { migrateDatabase, openDatabase, type LedgerDatabase } from '../src/db/client.js'
import { createTestDatabase, type TestDatabase } from '@cardplane/pg-kit/testing'
import { startTestIdentities, type TestIdentities } from '@cardplane/service-kit/testing'
import { loadZoneMap } from '@cardplane/zones'

let tdb: TestDatabase
let database: LedgerDatabase
let ids: TestIdentities
let app: FastifyInstance

t.before(async () => {
  tdb = await createTestDatabase('ledger_http')
  database = openDatabase(tdb.url)
  await migrateDatabase(database.pool)
  ids = await startTestIdentities(loadZoneMap())
  app = await buildApp({
    config: { LOG_LEVEL: 'silent', HOLD_TTL_SECONDS: 3600 },
    database,
    bundles: ids.client('ledger'),
    zoneMap: ids.zoneMap,
  })
  await app.ready()
})
t.teardown(async () => {
  await app.close()
  await ids.close()
  await database.close()
  await tdb.drop()
})

async function call(caller: string | null, method: 'GET' | 'POST', url: string, payload?: unknown) {
  const headers: Record<string, string> = caller ? { authorization: await ids.bearer(caller, 'ledger') } : {}
  const res = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) })
  return { status: res.statusCode, body: res.json<Record<string, any>>() }
}

void t.test('accounts, funding and holds over HTTP with real JWT-SVIDs', async (t) => {
  const created = await call('cards', 'POST', '/v1/accounts', { currency: 'EUR' })
  t.equal(created.status, 201)
  const accountId = created.body.id as string
  const credit = { idempotencyKey: `fund-${accountId}`, amount: { minor: 10_000, currency: 'EUR' } }
  t.equal((await call('console', 'POST', `/v1/accounts/${accountId}/credits`, credit)).status, 201)
  t.equal((await call('console', 'POST', `/v1/accounts/${accountId}/credits`, credit)).status, 200, 'replayed credit')

  const hold = { authorizationId: 'auth-http-1', accountId, amount: { minor: 2_500, currency: 'EUR' } }
  const placed = await call('authorizations', 'POST', '/v1/holds', hold)
  t.equal(placed.status, 201)
  t.equal(placed.body.result, 'placed')
  const again = await call('authorizations', 'POST', '/v1/holds', hold)
  t.equal(again.status, 200)
  t.equal(again.body.hold.id, placed.body.hold.id)
  t.equal(again.body.replayed, true)

  const found = await call('authorizations', 'GET', '/v1/holds?authorizationId=auth-http-1')
  t.equal(found.body.holds[0].id, placed.body.hold.id)
  t.same((await call('authorizations', 'GET', '/v1/holds?authorizationId=nope')).body, { holds: [] })

  const acc = await call('authorizations', 'GET', `/v1/accounts/${accountId}`)
  t.same([acc.body.balance.minor, acc.body.held.minor, acc.body.available.minor], [10_000, 2_500, 7_500])

  const released = await call('authorizations', 'POST', `/v1/holds/${placed.body.hold.id as string}/releases`, {
    releaseId: 'rel-http-1',
  })
  t.equal(released.body.hold.status, 'released')
  t.same((await call('console', 'GET', `/v1/accounts/${accountId}`)).body.available, { minor: 10_000, currency: 'EUR' })

  const poor = await call('authorizations', 'POST', '/v1/holds', { ...hold, authorizationId: 'auth-http-2', amount: { minor: 10_001, currency: 'EUR' } })
  t.same([poor.status, poor.body.result], [200, 'insufficient_funds'])
})

void t.test('errors are typed and bodies validated', async (t) => {
  const missing = await call('cards', 'GET', '/v1/accounts/acc_missing')
  t.same([missing.status, missing.body.error.code], [404, 'account_not_found'])
  const bad = await call('authorizations', 'POST', '/v1/holds', { authorizationId: 'x', accountId: 'y', amount: { minor: 1.5, currency: 'EUR' } })
  t.same([bad.status, bad.body.error.code], [400, 'invalid_request'])
  const zero = await call('authorizations', 'POST', '/v1/holds', { authorizationId: 'x', accountId: 'y', amount: { minor: 0, currency: 'EUR' } })
  t.equal(zero.status, 400, 'zero holds are refused')
})

void t.test('default deny: only the zone map callers reach each route', async (t) => {
  t.equal((await call(null, 'GET', '/v1/accounts/any')).status, 401, 'no token')
  t.equal((await call('cards', 'POST', '/v1/holds', { authorizationId: 'a', accountId: 'b', amount: { minor: 1, currency: 'EUR' } })).status, 403, 'cards may not place holds')
  t.equal((await call('authorizations', 'POST', '/v1/accounts', { currency: 'EUR' })).status, 403, 'authorizations may not open accounts')
  t.equal((await call('processor', 'GET', '/v1/accounts/any')).status, 403, 'group 2 never reaches the ledger')
  const probe = await call('authorizations', 'GET', '/v1/probe')
  t.same([probe.status, probe.body.service, probe.body.caller?.service], [200, 'ledger', 'authorizations'])
  t.equal((await call('proxy-internal', 'GET', '/v1/probe')).status, 403, 'probe: not a zone-map caller of ledger')
  const health = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(health.statusCode, 200)
})
