import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js'
import { SignJWT, generateKeyPair } from 'jose'
import { loadWorkloadApi, WorkloadApiClient, type JwtBundlesResponseMsg, type JwtSvidResponseMsg } from '../src/index.js'

// A scripted Workload API server over a real Unix socket, to drive the client through the error
// codes the standard names: which are retried, which are not, and how the bundle stream recovers.
type Outcome = 'ok' | number
interface Script {
  svid: Outcome[]
  bundles: Outcome[]
  svidCalls: number
  bundleCalls: number
  headerSeen: boolean[]
  empty?: boolean
  streams: ServerWritableStream<unknown, JwtBundlesResponseMsg>[]
}

const dir = await mkdtemp(join(tmpdir(), 'cp-wac-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const { privateKey } = await generateKeyPair('ES256')
const me = 'spiffe://cardplane.dev/g0/cards'
const jwks = (kid: string) => Buffer.from(JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid, use: 'jwt-svid' }] }))
let n = 0

async function scripted(t: Test, script: Partial<Script>): Promise<{ endpoint: string; s: Script }> {
  const s: Script = { svid: [], bundles: [], svidCalls: 0, bundleCalls: 0, headerSeen: [], streams: [], ...script }
  const server = new Server()
  const next = (list: Outcome[]): Outcome => list.shift() ?? 'ok'
  server.addService(loadWorkloadApi().service, {
    FetchJWTSVID: (call: ServerUnaryCall<unknown, JwtSvidResponseMsg>, cb: sendUnaryData<JwtSvidResponseMsg>) => {
      s.svidCalls++
      s.headerSeen.push(call.metadata.get('workload.spiffe.io')[0] === 'true')
      const o = next(s.svid)
      if (o !== 'ok') return cb({ code: o, details: 'scripted' })
      if (s.empty) return cb(null, { svids: [] })
      const now = Math.floor(Date.now() / 1000)
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k' })
        .setSubject(me)
        .setAudience('x')
        .setExpirationTime(now + 60)
        .sign(privateKey)
        .then((svid) => cb(null, { svids: [{ spiffe_id: me, svid, hint: '' }] }), () => cb({ code: status.INTERNAL }))
    },
    FetchJWTBundles: (call: ServerWritableStream<unknown, JwtBundlesResponseMsg>) => {
      s.bundleCalls++
      s.headerSeen.push(call.metadata.get('workload.spiffe.io')[0] === 'true')
      const o = next(s.bundles)
      if (o !== 'ok') {
        call.emit('error', { code: o, details: 'scripted' })
        return
      }
      s.streams.push(call)
      call.write({ bundles: { 'spiffe://cardplane.dev': jwks('first') } })
    },
    ValidateJWTSVID: (_call: unknown, cb: sendUnaryData<unknown>) => cb({ code: status.UNIMPLEMENTED }),
    FetchX509SVID: (call: ServerWritableStream<unknown, unknown>) => call.emit('error', { code: status.UNIMPLEMENTED }),
    FetchX509Bundles: (call: ServerWritableStream<unknown, unknown>) => call.emit('error', { code: status.UNIMPLEMENTED }),
  })
  const path = join(dir, `s${n++}.sock`)
  await new Promise<void>((ok, fail) => server.bindAsync(`unix://${path}`, ServerCredentials.createInsecure(), (e) => (e ? fail(e) : ok())))
  t.teardown(() => server.forceShutdown())
  return { endpoint: `unix://${path}`, s }
}

const fast = { backoff: { initialMs: 20, maxMs: 100 } }

t.test('PermissionDenied and Unavailable are retried with backoff; every call carries the header', async (t) => {
  const { endpoint, s } = await scripted(t, { svid: [status.PERMISSION_DENIED, status.UNAVAILABLE, status.PERMISSION_DENIED] })
  const client = new WorkloadApiClient({ socketPath: endpoint, ...fast })
  t.teardown(() => client.close())
  const svid = await client.fetchJwtSvid('x')
  t.equal(svid.spiffeId, me)
  t.equal(s.svidCalls, 4, 'three refusals, then success')
  t.ok(s.headerSeen.length > 0 && s.headerSeen.every(Boolean), 'workload.spiffe.io: true on every call')
})

t.test('InvalidArgument is never retried', async (t) => {
  const { endpoint, s } = await scripted(t, { svid: [status.INVALID_ARGUMENT] })
  const client = new WorkloadApiClient({ socketPath: endpoint, ...fast })
  t.teardown(() => client.close())
  await t.rejects(client.fetchJwtSvid('x'), { code: 'workload_api_invalid_argument', retry: false, grpcCode: status.INVALID_ARGUMENT })
  t.equal(s.svidCalls, 1)
})

t.test('other failures are not retried either', async (t) => {
  const { endpoint, s } = await scripted(t, { svid: [status.INTERNAL] })
  const client = new WorkloadApiClient({ socketPath: endpoint, ...fast })
  t.teardown(() => client.close())
  await t.rejects(client.fetchJwtSvid('x'), { code: 'workload_api_failed', grpcCode: status.INTERNAL })
  t.equal(s.svidCalls, 1)
})

t.test('a response without SVIDs is a typed error', async (t) => {
  const { endpoint } = await scripted(t, { empty: true })
  const client = new WorkloadApiClient({ socketPath: endpoint, ...fast })
  t.teardown(() => client.close())
  await t.rejects(client.fetchJwtSvid('x'), { code: 'workload_api_bad_response' })
})

t.test('bundle stream: restarted after Unavailable, kept open, follows updates', async (t) => {
  const { endpoint, s } = await scripted(t, { bundles: [status.UNAVAILABLE, status.PERMISSION_DENIED] })
  const errors: string[] = []
  const client = new WorkloadApiClient({ socketPath: endpoint, ...fast, onStreamError: (e) => errors.push(e.code) })
  t.teardown(() => client.close())
  await client.ready()
  t.equal(s.bundleCalls, 3)
  t.same(errors, ['workload_api_unavailable', 'workload_api_permission_denied'])
  t.equal(client.getBundle('cardplane.dev')?.keys[0]?.kid, 'first')
  s.streams[0]?.write({ bundles: { 'spiffe://cardplane.dev': jwks('second'), 'other.example': jwks('o') } })
  const until = Date.now() + 5000
  while (client.getBundle('cardplane.dev')?.keys[0]?.kid !== 'second' && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
  t.equal(client.getBundle('cardplane.dev')?.keys[0]?.kid, 'second', 'update on the same open stream')
  t.equal(client.getBundle('other.example')?.keys[0]?.kid, 'o')
  t.equal(s.bundleCalls, 3, 'no new stream was needed')
})

t.test('bundle stream refused with InvalidArgument: ready() rejects, no retry loop', async (t) => {
  const { endpoint, s } = await scripted(t, { bundles: [status.INVALID_ARGUMENT] })
  const client = new WorkloadApiClient({ socketPath: endpoint, ...fast })
  t.teardown(() => client.close())
  await t.rejects(client.ready(), { code: 'workload_api_invalid_argument' })
  await new Promise((r) => setTimeout(r, 300))
  t.equal(s.bundleCalls, 1)
  await t.rejects(client.ready(), { code: 'workload_api_invalid_argument' })
})

t.test('endpoint forms', async (t) => {
  t.throws(() => new WorkloadApiClient({ socketPath: 'tcp://127.0.0.1:1' }), { code: 'workload_api_bad_endpoint' })
  t.throws(() => new WorkloadApiClient({ socketPath: 'unix://relative/path' }), { code: 'workload_api_bad_endpoint' })
  const { endpoint } = await scripted(t, {})
  for (const form of [endpoint, endpoint.replace('unix://', 'unix:'), endpoint.replace('unix://', '')]) {
    const client = new WorkloadApiClient({ socketPath: form, ...fast })
    t.equal((await client.fetchJwtSvid('x')).spiffeId, me, form.slice(0, 8))
    client.close()
  }
})

t.test('the endpoint defaults to SPIFFE_ENDPOINT_SOCKET', async (t) => {
  const saved = process.env.SPIFFE_ENDPOINT_SOCKET
  t.teardown(() => {
    if (saved === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET
    else process.env.SPIFFE_ENDPOINT_SOCKET = saved
  })
  delete process.env.SPIFFE_ENDPOINT_SOCKET
  t.throws(() => new WorkloadApiClient(), { code: 'workload_api_no_endpoint' })
  const { endpoint } = await scripted(t, {})
  process.env.SPIFFE_ENDPOINT_SOCKET = endpoint
  const client = new WorkloadApiClient(fast)
  t.teardown(() => client.close())
  t.equal((await client.fetchJwtSvid('x')).spiffeId, me)
})
