import t from 'tap'
import { probeConformance, startTestIdentities } from '@cardplane/service-kit/testing'
import { loadZoneMap } from '@cardplane/zones'
import pg from 'pg'
import { createTestDatabase } from '@cardplane/pg-kit/testing'
import { buildApp } from '../src/app.js'
import { loadCardVaultConfig } from '../src/config.js'
import { runMigrations } from '../src/db/migrate.js'
import { VaultKeyService } from '../src/keys/vault-key-service.js'

const zoneMap = loadZoneMap()
const ids = await startTestIdentities(zoneMap)
const db = await createTestDatabase('cv_probe')
const pool = new pg.Pool({ connectionString: db.url, max: 2 })
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
  await db.drop()
})

// Not ready while the key service cannot provide data keys; the database is fine.
probeConformance(t, { app, service: 'card-vault', ids, ready: { statusCode: 503, ok: ['postgres'], failing: ['data-keys'] } })

t.test('config: the Workload API socket is required', async (t) => {
  t.throws(() => loadCardVaultConfig({}), { code: 'config_invalid', message: /SPIFFE_ENDPOINT_SOCKET/ })
  t.throws(() => loadCardVaultConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock' }), { code: 'config_invalid', message: /DATABASE_URL/ })
  t.equal(loadCardVaultConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock', DATABASE_URL: 'postgres://x/y' }).HOST, '127.0.0.1')
})
