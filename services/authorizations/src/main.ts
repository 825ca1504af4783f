import { Redis } from 'ioredis'
import { createServiceClient, runMain, runService, serviceUrl } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { loadZoneMap, serviceByName } from '@cardplane/zones'
import { buildApp } from './app.js'
import { loadAuthorizationsConfig } from './config.js'
import { migrateDatabase, openDatabase } from './db/client.js'
import { httpLedger } from './ledger-client.js'

runMain('authorizations', async () => {
  const config = loadAuthorizationsConfig()
  const zoneMap = loadZoneMap(config.CARDPLANE_ZONES_FILE, {
    ...(config.CARDPLANE_TRUST_DOMAIN ? { trustDomain: config.CARDPLANE_TRUST_DOMAIN } : {}),
  })
  const workload = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
  const database = openDatabase(config.DATABASE_URL, config.DB_POOL_SIZE)
  await migrateDatabase(database.pool)
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableAutoPipelining: true })
  const ledgerClient = createServiceClient({
    callee: 'ledger',
    zoneMap,
    svids: workload,
    baseUrl: serviceUrl(config, zoneMap, 'ledger'),
    timeoutMs: config.LEDGER_TIMEOUT_MS,
  })
  const app = await buildApp({ config, database, redis, ledger: httpLedger(ledgerClient), bundles: workload, zoneMap })
  database.pool.on('error', (err) => app.log.warn({ err }, 'idle database connection lost'))
  redis.on('error', (err) => app.log.warn({ err }, 'redis connection error'))
  await runService(app, {
    host: config.HOST,
    port: config.PORT ?? serviceByName(zoneMap, 'authorizations').devPort,
    onClose: async () => {
      await ledgerClient.close()
      redis.disconnect()
      workload.close()
      await database.close()
    },
  })
})
