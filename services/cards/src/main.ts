import { runMain, runService, zoneMapFromConfig } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { serviceByName } from '@cardplane/zones'
import { buildApp } from './app.js'
import { loadCardsConfig } from './config.js'

runMain('cards', async () => {
  const config = loadCardsConfig()
  const zoneMap = zoneMapFromConfig(config)
  const workload = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
  const app = await buildApp({ config, bundles: workload, zoneMap })
  await runService(app, {
    host: config.HOST,
    port: config.PORT ?? serviceByName(zoneMap, 'cards').devPort,
    onClose: () => workload.close(),
  })
})
