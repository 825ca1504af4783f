import { runMain, runService } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { loadZoneMap, serviceByName } from '@cardplane/zones'
import { buildApp } from './app.js'
import { loadLedgerConfig } from './config.js'
import { migrateDatabase, openDatabase } from './db/client.js'

runMain('ledger', async () => {
  const config = loadLedgerConfig()
  const zoneMap = loadZoneMap(config.CARDPLANE_ZONES_FILE, {
    ...(config.CARDPLANE_TRUST_DOMAIN ? { trustDomain: config.CARDPLANE_TRUST_DOMAIN } : {}),
  })
  const workload = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
  const database = openDatabase(config.DATABASE_URL, config.DB_POOL_SIZE)
  await migrateDatabase(database.pool)
  const app = await buildApp({ config, database, bundles: workload, zoneMap })
  const port = config.PORT ?? serviceByName(zoneMap, 'ledger').devPort
  database.pool.on('error', (err) => app.log.warn({ err }, 'idle database connection lost'))
  await runService(app, {
    host: config.HOST,
    port,
    onClose: async () => {
      workload.close()
      await database.close()
    },
  })
})
