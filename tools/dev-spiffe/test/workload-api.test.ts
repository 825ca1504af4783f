import t from 'tap'
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { loadZoneMap } from '@cardplane/zones'
import { loadWorkloadApi, validateJwtSvid, WorkloadApiClient, WorkloadApiError } from '@cardplane/spiffe'
import { startDevSpiffe } from '../src/index.js'
import { socketDir } from './helpers.js'

// Real gRPC over real Unix sockets: the package's WorkloadApiClient against the dev server.
const zoneMap = loadZoneMap()
const td = zoneMap.trustDomain
const { dir, cleanup } = await socketDir()
t.teardown(cleanup)

type Raw = Client & Record<string, (...args: unknown[]) => unknown>
function rawClient(endpoint: string): Raw {
  const { Client: Ctor } = loadWorkloadApi()
  return new Ctor(endpoint, credentials.createInsecure()) as unknown as Raw
}
function rawUnary(c: Raw, method: string, req: unknown, md: Metadata): Promise<unknown> {
  return new Promise((resolve, reject) => {
    c[method]!(req, md, (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)))
  })
}
function rawStreamError(c: Raw, method: string, md: Metadata): Promise<ServiceError> {
  return new Promise((resolve, reject) => {
    const call = c[method]!({}, md) as NodeJS.EventEmitter
    call.on('data', () => reject(new Error('unexpected data')))
    call.on('error', (err: ServiceError) => resolve(err))
  })
}
const header = (): Metadata => {
  const md = new Metadata()
  md.set('workload.spiffe.io', 'true')
  return md
}

t.test('each service socket issues its own identity, audience as asked, ES256 with the bundle kid', async (t) => {
  const dev = await startDevSpiffe({ dir, trustDomain: td, services: zoneMap.services })
  t.teardown(() => dev.stop())
  const audience = 'spiffe://cardplane.dev/g0/ledger'
  for (const svc of zoneMap.services) {
    const client = new WorkloadApiClient({ socketPath: dev.endpoint(svc.name) })
    t.teardown(() => client.close())
    const svid = await client.fetchJwtSvid(audience)
    t.equal(svid.spiffeId, svc.spiffeId, `${svc.name} gets its own SPIFFE ID`)
    t.equal(client.spiffeId, svc.spiffeId)
    const claims = decodeJwt(svid.token)
    t.equal(claims.sub, svc.spiffeId)
    t.same(claims.aud, [audience])
    const hdr = decodeProtectedHeader(svid.token)
    t.equal(hdr.alg, 'ES256')
    t.equal(hdr.kid, dev.trustBundle.keys[0]?.kid)
    t.ok(Math.abs(svid.expiresAt.getTime() - (Date.now() + 300_000)) < 5000, 'default lifetime 5 min')
    await client.ready()
    const res = await validateJwtSvid(svid.token, { audience, trustDomain: td, bundles: client })
    t.equal(res.spiffeId, svc.spiffeId, 'validates against the streamed bundle')
  }
})

t.test('bundle stream: JWKS keyed by trust domain, keys marked use=jwt-svid, no private parts', async (t) => {
  const dev = await startDevSpiffe({ dir, trustDomain: td, services: zoneMap.services.slice(0, 1) })
  t.teardown(() => dev.stop())
  const name = zoneMap.services[0]!.name
  const client = new WorkloadApiClient({ socketPath: dev.endpoint(name) })
  t.teardown(() => client.close())
  await client.ready()
  const bundle = client.getBundle(td)
  t.same(bundle, dev.trustBundle)
  t.equal(bundle?.keys.length, 1)
  t.match(bundle?.keys[0], { kty: 'EC', crv: 'P-256', use: 'jwt-svid', kid: /^[A-Za-z0-9_-]{16,}$/ })
  t.notOk(bundle?.keys[0] && 'd' in bundle.keys[0], 'no private key in the bundle')
  t.equal(client.getBundle('other.example'), undefined)
})

t.test('SVIDs are cached until half their lifetime, per audience', async (t) => {
  const dev = await startDevSpiffe({ dir, trustDomain: td, services: zoneMap.services.slice(0, 1), svidTtlSec: 2 })
  t.teardown(() => dev.stop())
  const client = new WorkloadApiClient({ socketPath: dev.endpoint(zoneMap.services[0]!.name) })
  t.teardown(() => client.close())
  const a1 = await client.fetchJwtSvid('spiffe://cardplane.dev/g0/a')
  const [a2, a3] = await Promise.all([client.fetchJwtSvid('spiffe://cardplane.dev/g0/a'), client.fetchJwtSvid('spiffe://cardplane.dev/g0/a')])
  t.equal(a2.token, a1.token, 'second call served from cache')
  t.equal(a3.token, a1.token)
  const b = await client.fetchJwtSvid('spiffe://cardplane.dev/g0/b')
  t.not(b.token, a1.token, 'another audience gets its own token')
  await new Promise((r) => setTimeout(r, 1100))
  const a4 = await client.fetchJwtSvid('spiffe://cardplane.dev/g0/a')
  t.not(a4.token, a1.token, 'refreshed after half the lifetime')
  t.ok(a4.expiresAt > a1.expiresAt)
})

t.test('the client retries while the server restarts; the bundle stream reconnects to the new key', async (t) => {
  const services = zoneMap.services.slice(0, 1)
  const name = services[0]!.name
  let dev = await startDevSpiffe({ dir, trustDomain: td, services })
  const client = new WorkloadApiClient({ socketPath: dev.endpoint(name), backoff: { initialMs: 50, maxMs: 400 } })
  t.teardown(() => client.close())
  await client.ready()
  const oldKid = client.getBundle(td)?.keys[0]?.kid
  await dev.stop()

  const pending = client.fetchJwtSvid('spiffe://cardplane.dev/g0/x')
  await new Promise((r) => setTimeout(r, 700)) // several failed attempts happen while the socket is gone
  dev = await startDevSpiffe({ dir, trustDomain: td, services })
  t.teardown(() => dev.stop())
  const svid = await pending
  t.equal(decodeProtectedHeader(svid.token).kid, dev.trustBundle.keys[0]?.kid, 'issued by the restarted server')

  const deadline = Date.now() + 10_000
  while (client.getBundle(td)?.keys[0]?.kid === oldKid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.not(client.getBundle(td)?.keys[0]?.kid, oldKid, 'bundle stream restarted and received the new key')
  t.equal(client.getBundle(td)?.keys[0]?.kid, dev.trustBundle.keys[0]?.kid)
})

t.test('unavailable for longer than the fetch timeout: a typed, retryable error', async (t) => {
  const client = new WorkloadApiClient({ socketPath: `unix://${dir}/nobody.sock`, backoff: { initialMs: 20, maxMs: 100 }, fetchTimeoutMs: 500 })
  t.teardown(() => client.close())
  const err = await client.fetchJwtSvid('spiffe://cardplane.dev/g0/x').catch((e: unknown) => e)
  t.type(err, WorkloadApiError)
  t.match(err, { code: 'workload_api_unavailable', retry: true, grpcCode: status.UNAVAILABLE })
})

t.test('the workload.spiffe.io header is required (InvalidArgument, never retried)', async (t) => {
  const dev = await startDevSpiffe({ dir, trustDomain: td, services: zoneMap.services.slice(0, 1) })
  t.teardown(() => dev.stop())
  const raw = rawClient(dev.endpoint(zoneMap.services[0]!.name))
  t.teardown(() => raw.close())
  await t.rejects(rawUnary(raw, 'FetchJWTSVID', { audience: ['spiffe://cardplane.dev/g0/x'] }, new Metadata()), {
    code: status.INVALID_ARGUMENT,
  })
  const wrong = new Metadata()
  wrong.set('workload.spiffe.io', 'false')
  await t.rejects(rawUnary(raw, 'FetchJWTSVID', { audience: ['spiffe://cardplane.dev/g0/x'] }, wrong), { code: status.INVALID_ARGUMENT })
  t.match(await rawStreamError(raw, 'FetchJWTBundles', new Metadata()), { code: status.INVALID_ARGUMENT })
  await t.rejects(rawUnary(raw, 'ValidateJWTSVID', { audience: 'a', svid: 'b' }, new Metadata()), { code: status.INVALID_ARGUMENT })
  // with the header the same call works
  const ok = (await rawUnary(raw, 'FetchJWTSVID', { audience: ['spiffe://cardplane.dev/g0/x'] }, header())) as { svids: unknown[] }
  t.equal(ok.svids.length, 1)

  // The client does not retry InvalidArgument: with a 2 s first backoff, a retry would show in the time.
  const client = new WorkloadApiClient({ socketPath: dev.endpoint(zoneMap.services[0]!.name), backoff: { initialMs: 2000 } })
  t.teardown(() => client.close())
  const started = Date.now()
  await t.rejects(client.validateJwtSvid('not-a-token', 'spiffe://cardplane.dev/g0/x'), { code: 'workload_api_invalid_argument' })
  t.ok(Date.now() - started < 1500, 'failed at once')
})

t.test('the socket is the identity: asking for another SPIFFE ID is denied; audience required', async (t) => {
  const dev = await startDevSpiffe({ dir, trustDomain: td, services: zoneMap.services.slice(0, 2) })
  t.teardown(() => dev.stop())
  const [a, b] = zoneMap.services
  const raw = rawClient(dev.endpoint(a!.name))
  t.teardown(() => raw.close())
  await t.rejects(rawUnary(raw, 'FetchJWTSVID', { audience: ['spiffe://cardplane.dev/g0/x'], spiffe_id: b!.spiffeId }, header()), {
    code: status.PERMISSION_DENIED,
  })
  const own = (await rawUnary(raw, 'FetchJWTSVID', { audience: ['spiffe://cardplane.dev/g0/x'], spiffe_id: a!.spiffeId }, header())) as {
    svids: { spiffe_id: string }[]
  }
  t.equal(own.svids[0]?.spiffe_id, a!.spiffeId)
  await t.rejects(rawUnary(raw, 'FetchJWTSVID', { audience: [] }, header()), { code: status.INVALID_ARGUMENT })
})

t.test('ValidateJWTSVID on the server; X.509 RPCs are UNIMPLEMENTED', async (t) => {
  const dev = await startDevSpiffe({ dir, trustDomain: td, services: zoneMap.services.slice(0, 2) })
  t.teardown(() => dev.stop())
  const [a, b] = zoneMap.services
  const ca = new WorkloadApiClient({ socketPath: dev.endpoint(a!.name) })
  const cb = new WorkloadApiClient({ socketPath: dev.endpoint(b!.name) })
  t.teardown(() => {
    ca.close()
    cb.close()
  })
  const svid = await ca.fetchJwtSvid(b!.spiffeId)
  const res = await cb.validateJwtSvid(svid.token, b!.spiffeId)
  t.equal(res.spiffeId, a!.spiffeId)
  t.same(res.claims.aud, [b!.spiffeId])
  t.equal(res.claims.sub, a!.spiffeId)
  t.type(res.claims.exp, 'number')
  await t.rejects(cb.validateJwtSvid(svid.token, a!.spiffeId), { code: 'workload_api_invalid_argument', message: /jwt_aud_mismatch/ })
  const raw = rawClient(dev.endpoint(a!.name))
  t.teardown(() => raw.close())
  t.match(await rawStreamError(raw, 'FetchX509SVID', header()), { code: status.UNIMPLEMENTED })
  t.match(await rawStreamError(raw, 'FetchX509Bundles', header()), { code: status.UNIMPLEMENTED })
})

t.test('close() rejects a pending ready() and stops retrying', async (t) => {
  const client = new WorkloadApiClient({ socketPath: `unix://${dir}/nobody2.sock` })
  const ready = client.ready()
  client.close()
  await t.rejects(ready, { code: 'workload_api_closed' })
  await t.rejects(client.fetchJwtSvid('spiffe://cardplane.dev/g0/x'), { code: 'workload_api_closed' })
})
