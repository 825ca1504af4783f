import { createPool } from '@cardplane/pg-kit'
import { runMain, runService, serviceUrl, zoneMapFromConfig } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { serviceByName } from '@cardplane/zones'
import { buildApp } from './app.js'
import { loadCardVaultConfig } from './config.js'
import { runMigrations } from './db/migrate.js'
import { VaultKeyService } from './keys/vault-key-service.js'

runMain('card-vault', async () => {
  const config = loadCardVaultConfig()
  const zoneMap = zoneMapFromConfig(config)
  const workload = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
  // Generic plans for every prepared statement: the vault's queries are key lookups, and the batched PAN-index
  // lookup (`unnest($1::bytea[])`) otherwise gets a custom plan on every execution (~130 µs of planning each),
  // because its generic plan's row estimate is worse than any one array's.
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.CARD_VAULT_DB_POOL_SIZE,
    options: '-c plan_cache_mode=force_generic_plan',
  })
  // An idle connection dropped by the server is replaced by the pool; without a listener it would crash the process.
  pool.on('error', (err) => console.error(`card-vault: idle PostgreSQL connection lost (${(err as { code?: string }).code ?? 'error'})`))
  await runMigrations(pool)
  const keys = new VaultKeyService({
    endpoint: serviceUrl(config, zoneMap, 'keyvault'),
    svids: workload,
    audience: serviceByName(zoneMap, 'keyvault').spiffeId,
    cvvBatchMax: config.CARD_VAULT_CVV_BATCH_MAX,
  })
  const app = await buildApp({ config, bundles: workload, zoneMap, pool, keys })
  await runService(app, {
    host: config.HOST,
    port: config.PORT ?? serviceByName(zoneMap, 'card-vault').devPort,
    onClose: async () => {
      workload.close()
      await keys.close()
      await pool.end()
    },
  })
})
