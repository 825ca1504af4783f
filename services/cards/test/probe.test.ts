import t from 'tap'
import { probeConformance, startTestIdentities } from '@cardplane/service-kit/testing'
import { loadZoneMap } from '@cardplane/zones'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createServiceClient } from '@cardplane/service-kit'
import { buildApp } from '../src/app.js'
import { loadCardsConfig } from '../src/config.js'
import { runMigrations } from '../src/db/migrate.js'
import { loadPrograms } from '../src/domain/programs.js'

const zoneMap = loadZoneMap()
const ids = await startTestIdentities(zoneMap)
const dbName = `cards_probe_${process.pid}_${randomBytes(3).toString('hex')}`
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' })
await admin.connect()
await admin.query(`CREATE DATABASE ${dbName}`)
const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}`, max: 2 })
pool.on('error', () => undefined)
await runMigrations(pool)
const config = loadCardsConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/unused.sock', DATABASE_URL: 'postgres://unused', LOG_LEVEL: 'silent' })
const client = (callee: string) => createServiceClient({ callee, zoneMap, svids: ids.client('cards'), baseUrl: 'http://127.0.0.1:9' })
const clients = { cde: client('proxy-internal'), ledger: client('ledger') }
const app = await buildApp({ config, bundles: ids.client('cards'), zoneMap, pool, programs: loadPrograms(config.CARDS_PROGRAMS_FILE), clients })
t.teardown(async () => {
  await app.close()
  await ids.close()
  await clients.cde.close()
  await clients.ledger.close()
  await pool.end()
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin.end()
})

probeConformance(t, { app, service: 'cards', ids })

t.test('config: the Workload API socket is required', async (t) => {
  t.throws(() => loadCardsConfig({}), { code: 'config_invalid', message: /SPIFFE_ENDPOINT_SOCKET/ })
  t.throws(() => loadCardsConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock' }), { code: 'config_invalid', message: /DATABASE_URL/ })
  t.equal(loadCardsConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock', DATABASE_URL: 'postgres://x/y' }).HOST, '127.0.0.1')
})
