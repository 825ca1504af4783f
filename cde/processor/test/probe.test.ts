import t from 'tap'
import { startTestIdentities } from '@cardplane/service-kit/testing'
import { edgeAllowed, loadZoneMap, serviceByName } from '@cardplane/zones'
import { buildApp } from '../src/app.js'
import { loadProcessorConfig } from '../src/config.js'

const zoneMap = loadZoneMap()
const self = serviceByName(zoneMap, 'processor')
const ids = await startTestIdentities(zoneMap)
const app = await buildApp({ config: { LOG_LEVEL: 'silent' }, bundles: ids.client('processor'), zoneMap })
t.teardown(async () => {
  await app.close()
  await ids.close()
})

t.test('GET /v1/probe answers exactly the zone map callers, with real JWT-SVIDs', async (t) => {
  for (const caller of zoneMap.services) {
    const svid = await ids.client(caller.name).fetchJwtSvid(self.spiffeId)
    const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${svid.token}` } })
    if (edgeAllowed(zoneMap, caller.name, 'processor')) {
      t.equal(res.statusCode, 200, `${caller.name} -> processor allowed`)
      t.same(res.json(), { service: 'processor', caller: { spiffeId: caller.spiffeId, service: caller.name, group: caller.group } })
    } else {
      t.equal(res.statusCode, 403, `${caller.name} -> processor refused`)
    }
  }
})

t.test('a token for another audience is refused with 401', async (t) => {
  const other = zoneMap.services.find((s) => s.name !== 'processor')!
  const svid = await ids.client(other.name).fetchJwtSvid(other.spiffeId)
  const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${svid.token}` } })
  t.equal(res.statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/v1/probe' })).statusCode, 401, 'no token')
})

t.test('health, readiness and metrics are public', async (t) => {
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.equal(ready.json().checks['spiffe-bundle'], 'ok')
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /http_requests_total/)
})

t.test('config: the Workload API socket is required', async (t) => {
  t.throws(() => loadProcessorConfig({}), { code: 'config_invalid', message: /SPIFFE_ENDPOINT_SOCKET/ })
  t.equal(loadProcessorConfig({ SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock' }).HOST, '127.0.0.1')
})
