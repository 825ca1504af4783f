import { createPool } from '@cardplane/pg-kit'
import { createServiceClient, runMain, runService, serviceUrl, zoneMapFromConfig } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { serviceByName } from '@cardplane/zones'
import { buildApp } from './app.js'
import { loadCardsConfig } from './config.js'
import { runMigrations } from './db/migrate.js'
import { loadPrograms } from './domain/programs.js'

runMain('cards', async () => {
  const config = loadCardsConfig()
  const zoneMap = zoneMapFromConfig(config)
  const programs = loadPrograms(config.CARDS_PROGRAMS_FILE)
  const workload = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
  const pool = createPool({ connectionString: config.DATABASE_URL, max: config.CARDS_DB_POOL_SIZE })
  pool.on('error', (err) => console.error(`cards: idle PostgreSQL connection lost (${(err as { code?: string }).code ?? 'error'})`))
  await runMigrations(pool)
  const client = (callee: string) =>
    createServiceClient({ callee, zoneMap, svids: workload, baseUrl: serviceUrl(config, zoneMap, callee), timeoutMs: 20_000 })
  const clients = {
    cde: client('proxy-internal'),
    ledger: client('ledger'),
    ...(config.CARDS_REGISTER_AUTHORIZATIONS ? { authorizations: client('authorizations') } : {}),
  }
  const app = await buildApp({ config, bundles: workload, zoneMap, pool, programs, clients })
  await runService(app, {
    host: config.HOST,
    port: config.PORT ?? serviceByName(zoneMap, 'cards').devPort,
    onClose: async () => {
      await Promise.all([clients.cde.close(), clients.ledger.close(), clients.authorizations?.close()])
      workload.close()
      await pool.end()
    },
  })
})
