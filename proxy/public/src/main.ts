import { runMain, runService, serviceUrl, zoneMapFromConfig, type Logger } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { serviceByName } from '@cardplane/zones'
import { buildApp } from './app.js'
import { loadProxyPublicConfig } from './config.js'
import { registerLinkMetrics } from './tcp/link-metrics.js'
import { startLinks } from './tcp/links.js'

runMain('proxy-public', async () => {
  const config = loadProxyPublicConfig()
  const zoneMap = zoneMapFromConfig(config)
  const workload = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
  const app = await buildApp({ config, bundles: workload, zoneMap })
  const links = await startLinks({
    links: config.PUBLIC_LINKS,
    zoneMap,
    svids: workload,
    processorUrl: serviceUrl(config, zoneMap, 'processor'),
    logger: app.log as Logger,
    coalesceMs: config.PUBLIC_FRAME_COALESCE_MS,
    coalesceExtendMs: config.PUBLIC_FRAME_COALESCE_EXTEND_MS,
  })
  registerLinkMetrics(app.metrics.registry, links.listeners)
  await runService(app, {
    host: config.HOST,
    port: config.PORT ?? serviceByName(zoneMap, 'proxy-public').devPort,
    onClose: async () => {
      await links.close()
      workload.close()
    },
  })
})
