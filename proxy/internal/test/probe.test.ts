import t from 'tap'
import { probeConformance, startTestIdentities } from '@cardplane/service-kit/testing'
import { loadZoneMap } from '@cardplane/zones'
import { buildApp } from '../src/app.js'
import { loadProxyInternalConfig } from '../src/config.js'

const zoneMap = loadZoneMap()
const ids = await startTestIdentities(zoneMap)
const app = await buildApp({ config: { LOG_LEVEL: 'silent' }, bundles: ids.client('proxy-internal'), zoneMap })
t.teardown(async () => {
  await app.close()
  await ids.close()
})

probeConformance(t, { app, service: 'proxy-internal', ids })

t.test('config: the Workload API socket is required', async (t) => {
  t.throws(() => loadProxyInternalConfig({}), { code: 'config_invalid', message: /SPIFFE_ENDPOINT_SOCKET/ })
  t.equal(loadProxyInternalConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock' }).HOST, '127.0.0.1')
})
