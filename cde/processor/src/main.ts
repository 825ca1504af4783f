import { createLogger, runMain, runService, zoneMapFromConfig } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { serviceByName } from '@cardplane/zones'
import { buildApp } from './app.js'
import { createAuthorization } from './authorization.js'
import { loadProcessorConfig } from './config.js'

runMain('processor', async () => {
  const config = loadProcessorConfig()
  const zoneMap = zoneMapFromConfig(config)
  const workload = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
  const logger = createLogger({ name: 'processor', level: config.LOG_LEVEL })
  const authorization = createAuthorization(config, zoneMap, workload, logger)
  const app = await buildApp({ config, bundles: workload, zoneMap, logger, authorization })
  app.metrics.registry.registerMetric(authorization.participantSeconds)
  app.metrics.registry.registerMetric(authorization.shedTotal)
  await runService(app, {
    host: config.HOST,
    port: config.PORT ?? serviceByName(zoneMap, 'processor').devPort,
    onClose: async () => {
      await authorization.close()
      workload.close()
    },
  })
})
