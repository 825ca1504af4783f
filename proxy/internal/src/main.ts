import { runMain, runService, serviceUrl, zoneMapFromConfig } from '@cardplane/service-kit'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { serviceByName } from '@cardplane/zones'
import { buildApp } from './app.js'
import { loadProxyInternalConfig } from './config.js'

runMain('proxy-internal', async () => {
  const config = loadProxyInternalConfig()
  const zoneMap = zoneMapFromConfig(config)
  const workload = new WorkloadApiClient({ socketPath: config.SPIFFE_ENDPOINT_SOCKET })
  const app = await buildApp({
    config,
    bundles: workload,
    svids: workload,
    zoneMap,
    upstreamUrl: (name) => serviceUrl(config, zoneMap, name),
  })
  await runService(app, {
    host: config.HOST,
    port: config.PORT ?? serviceByName(zoneMap, 'proxy-internal').devPort,
    onClose: () => workload.close(),
  })
})
