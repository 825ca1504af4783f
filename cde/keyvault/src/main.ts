import { runService } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { loadZoneMap, serviceByName } from '@cardplane/zones'
import pg from 'pg'
import { buildApp } from './app.js'
import { createCore } from './build-core.js'
import { loadKeyvaultConfig } from './config.js'

// Wiring only: config once, clients, core, app, listen. The service starts sealed.
const config = loadKeyvaultConfig()
const zoneMap = loadZoneMap(config.CARDPLANE_ZONES_FILE, config.CARDPLANE_TRUST_DOMAIN ? { trustDomain: config.CARDPLANE_TRUST_DOMAIN } : {})
const self = serviceByName(zoneMap, 'keyvault')
const bundles = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
// synchronous_commit=on whatever the database default: an audit row is "durable" only once its
// commit is flushed, and no response leaves before that.
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.KEYVAULT_DB_POOL_SIZE, options: '-c synchronous_commit=on' })
const core = await createCore({
  pool,
  settings: { self, zoneMap, bundles, spiffeRoles: config.KEYVAULT_SPIFFE_ROLES, tokenTtlSec: config.KEYVAULT_TOKEN_TTL_SEC },
  auditFile: config.KEYVAULT_AUDIT_FILE,
  auditMaxBatch: config.KEYVAULT_AUDIT_MAX_BATCH,
})
const app = await buildApp({ core, config, bundles, zoneMap })
await runService(app, {
  host: config.HOST,
  port: config.PORT ?? self.devPort,
  onClose: async () => {
    core.seal.sealNow()
    await core.audit.close()
    await pool.end()
    bundles.close()
  },
})
