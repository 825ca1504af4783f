import t from 'tap'
import Fastify from 'fastify'
import { loadZoneMap, serviceByName } from '@cardplane/zones'
import { spiffeAuth, WorkloadApiClient } from '@cardplane/spiffe'
import { startDevSpiffe } from '../src/index.js'
import { logCapture, socketDir } from './helpers.js'

// Real identities end to end: the dev Workload API issues each caller's JWT-SVID over its own socket,
// the callee (processor, g2) fetches the bundle over its own socket and checks route allowlists.
const zoneMap = loadZoneMap()
const { dir, cleanup } = await socketDir()
const dev = await startDevSpiffe({ dir, trustDomain: zoneMap.trustDomain, services: zoneMap.services })
const clients = new Map<string, WorkloadApiClient>()
const clientFor = (name: string): WorkloadApiClient => {
  let c = clients.get(name)
  if (!c) {
    c = new WorkloadApiClient({ socketPath: dev.endpoint(name) })
    clients.set(name, c)
  }
  return c
}
t.teardown(async () => {
  for (const c of clients.values()) c.close()
  await dev.stop()
  await cleanup()
})

const self = serviceByName(zoneMap, 'processor')
const logs = logCapture()
const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
const bundles = clientFor('processor')
await app.register(spiffeAuth, { self, zoneMap, bundles })
app.get('/v1/probe', { config: { callers: ['proxy-public', 'proxy-internal'] } }, async (req) => ({ caller: req.caller }))
app.get('/v1/undeclared', async () => ({ ok: true }))
// A mistaken allowlist: cards (g0) cannot reach processor (g2) whatever a route says.
app.get('/v1/mistake', { config: { callers: ['cards', 'proxy-internal'] } }, async () => ({ ok: true }))
app.get('/healthz', { config: { public: true } }, async () => ({ ok: true }))
await bundles.ready()
t.teardown(() => app.close())

async function call(caller: string | null, url: string) {
  const headers: Record<string, string> = {}
  if (caller) headers.authorization = `Bearer ${(await clientFor(caller).fetchJwtSvid(self.spiffeId)).token}`
  return app.inject({ method: 'GET', url, headers })
}
function lastRefusal(): Record<string, unknown> | undefined {
  return logs.lines().filter((l) => l.msg === 'spiffe auth refused').at(-1)
}

t.test('allowed caller gets 200 and request.caller', async (t) => {
  const res = await call('proxy-public', '/v1/probe')
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    caller: { spiffeId: serviceByName(zoneMap, 'proxy-public').spiffeId, service: 'proxy-public', group: 1 },
  })
})

t.test('another adjacent caller not on the route list gets 403', async (t) => {
  const res = await call('manufacturing', '/v1/probe')
  t.equal(res.statusCode, 403)
  t.equal(res.json().error.code, 'caller_not_allowed')
  t.match(lastRefusal(), { reason: 'caller_not_allowed', route: 'GET /v1/probe', caller: serviceByName(zoneMap, 'manufacturing').spiffeId, level: 40 })
})

t.test('a route without a declaration refuses everyone with 403', async (t) => {
  const res = await call('proxy-public', '/v1/undeclared')
  t.equal(res.statusCode, 403)
  t.equal(res.json().error.code, 'route_no_callers')
  t.match(lastRefusal(), { reason: 'route_no_callers', route: 'GET /v1/undeclared' })
})

t.test('a non-adjacent caller named on a route is still refused with 403', async (t) => {
  const res = await call('cards', '/v1/mistake')
  t.equal(res.statusCode, 403)
  t.equal(res.json().error.code, 'caller_zone_not_adjacent')
  t.match(lastRefusal(), { reason: 'caller_zone_not_adjacent', route: 'GET /v1/mistake' })
  const ok = await call('proxy-internal', '/v1/mistake')
  t.equal(ok.statusCode, 200, 'the adjacent caller on the same route passes')
})

t.test('no token: 401; public route: no token needed', async (t) => {
  const res = await call(null, '/v1/probe')
  t.equal(res.statusCode, 401)
  t.equal(res.json().error.code, 'jwt_missing_token')
  t.match(lastRefusal(), { reason: 'jwt_missing_token', caller: null })
  t.equal((await call(null, '/healthz')).statusCode, 200)
})

t.test('a token minted for another audience (replay from processor to card-vault) is refused', async (t) => {
  const forVault = await clientFor('proxy-public').fetchJwtSvid(serviceByName(zoneMap, 'card-vault').spiffeId)
  const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${forVault.token}` } })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error.code, 'jwt_aud_mismatch')
})

t.test('an unknown caller name in a route list fails at registration', async (t) => {
  const app2 = Fastify()
  await app2.register(spiffeAuth, { self, zoneMap, bundles })
  t.throws(() => app2.get('/x', { config: { callers: ['no-such-service'] } }, async () => ({})), { code: 'zone_map_invalid' })
  await app2.close()
})

t.test('the token never appears in the logs', async (t) => {
  const svid = await clientFor('proxy-public').fetchJwtSvid(self.spiffeId)
  const text = JSON.stringify(logs.lines())
  t.notOk(text.includes(svid.token.split('.')[2] ?? 'x'), 'no signature in logs')
})
