import t from 'tap'
import { startTestIdentities } from '@cardplane/service-kit/testing'
import { edgeAllowed, loadZoneMap, serviceByName } from '@cardplane/zones'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { loadCardVaultConfig } from '../src/config.js'
import { runMigrations } from '../src/db/migrate.js'
import { VaultKeyService } from '../src/keys/vault-key-service.js'

const zoneMap = loadZoneMap()
const self = serviceByName(zoneMap, 'card-vault')
const ids = await startTestIdentities(zoneMap)
const dbName = `cv_probe_${process.pid}_${randomBytes(3).toString('hex')}`
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' })
await admin.connect()
await admin.query(`CREATE DATABASE ${dbName}`)
const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}`, max: 2 })
await runMigrations(pool)
// A key service that is not there: the app must come up but say it is not ready.
const keys = new VaultKeyService({ endpoint: 'http://127.0.0.1:9', svids: ids.client('card-vault'), audience: 'spiffe://x/g4/keyvault', timeoutMs: 500 })
const config = loadCardVaultConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/unused.sock', DATABASE_URL: 'postgres://unused', LOG_LEVEL: 'silent' })
const app = await buildApp({ config, bundles: ids.client('card-vault'), zoneMap, pool, keys })
pool.on('error', () => undefined)
t.teardown(async () => {
  await app.close()
  await ids.close()
  await pool.end()
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin.end()
})

t.test('GET /v1/probe answers exactly the zone map callers, with real JWT-SVIDs', async (t) => {
  for (const caller of zoneMap.services) {
    const svid = await ids.client(caller.name).fetchJwtSvid(self.spiffeId)
    const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${svid.token}` } })
    if (edgeAllowed(zoneMap, caller.name, 'card-vault')) {
      t.equal(res.statusCode, 200, `${caller.name} -> card-vault allowed`)
      t.same(res.json(), { service: 'card-vault', caller: { spiffeId: caller.spiffeId, service: caller.name, group: caller.group } })
    } else {
      t.equal(res.statusCode, 403, `${caller.name} -> card-vault refused`)
    }
  }
})

t.test('a token for another audience is refused with 401', async (t) => {
  const other = zoneMap.services.find((s) => s.name !== 'card-vault')!
  const svid = await ids.client(other.name).fetchJwtSvid(other.spiffeId)
  const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${svid.token}` } })
  t.equal(res.statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/v1/probe' })).statusCode, 401, 'no token')
})

t.test('health, readiness and metrics are public', async (t) => {
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503, 'not ready while the key service cannot provide data keys')
  t.equal(ready.json().checks['spiffe-bundle'], 'ok')
  t.equal(ready.json().checks.postgres, 'ok')
  t.not(ready.json().checks['data-keys'], 'ok')
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /http_requests_total/)
})

t.test('config: the Workload API socket is required', async (t) => {
  t.throws(() => loadCardVaultConfig({}), { code: 'config_invalid', message: /SPIFFE_ENDPOINT_SOCKET/ })
  t.throws(() => loadCardVaultConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock' }), { code: 'config_invalid', message: /DATABASE_URL/ })
  t.equal(loadCardVaultConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock', DATABASE_URL: 'postgres://x/y' }).HOST, '127.0.0.1')
})
