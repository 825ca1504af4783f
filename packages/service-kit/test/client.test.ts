import { createServer } from 'node:net'
import t from 'tap'
import { decodeJwt } from 'jose'
import {
  batchResults,
  DeadlineError,
  UnavailableError,
  UpstreamError,
  createServiceApp,
  createServiceClient,
  registerProbe,
} from '../src/index.js'
import { startTestIdentities } from '../src/testing.js'
import { memoryLogger, zoneMap } from './helpers.js'

const map = zoneMap()
const ids = await startTestIdentities(map)
t.teardown(() => ids.close())

const { logger, text } = memoryLogger('ledger')
const callee = await createServiceApp({ service: 'ledger', logger, bundles: ids.client('ledger'), zoneMap: map, defaultMetrics: false })
registerProbe(callee)
callee.post('/v1/echo', { config: { callers: ['cards'] } }, async (request) => {
  const token = String(request.headers.authorization).replace(/^Bearer /, '')
  return { caller: request.caller, aud: decodeJwt(token).aud, body: request.body }
})
callee.get('/v1/slow', { config: { callers: ['cards'] } }, async () => {
  await new Promise((r) => setTimeout(r, 1000))
  return { late: true }
})
callee.get('/v1/down', { config: { callers: ['cards'] } }, async () => {
  throw new UnavailableError('ledger_paused')
})
const baseUrl = await callee.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => callee.close())

t.test('attaches a JWT-SVID for the callee audience, from the caller socket', async (t) => {
  const client = createServiceClient({ callee: 'ledger', zoneMap: map, svids: ids.client('cards'), baseUrl })
  t.teardown(() => client.close())
  const probe = await client.request<{ service: string; caller: { service: string } }>({ method: 'GET', path: '/v1/probe' })
  t.equal(probe.statusCode, 200)
  t.equal(probe.body.service, 'ledger')
  t.equal(probe.body.caller.service, 'cards')
  const echo = await client.request<{ aud: unknown; caller: { spiffeId: string }; body: unknown }>({
    method: 'POST',
    path: '/v1/echo',
    body: { amount: 100 },
  })
  t.same(echo.body.aud, ['spiffe://cardplane.dev/g0/ledger'], 'audience is exactly the callee SPIFFE ID')
  t.equal(echo.body.caller.spiffeId, 'spiffe://cardplane.dev/g0/cards')
  t.same(echo.body.body, { amount: 100 })
})

t.test('a caller the route does not list gets an UpstreamError carrying 403', async (t) => {
  const client = createServiceClient({ callee: 'ledger', zoneMap: map, svids: ids.client('console'), baseUrl })
  t.teardown(() => client.close())
  const err = await client.request({ method: 'POST', path: '/v1/echo?x=1', body: {} }).catch((e: unknown) => e)
  t.ok(err instanceof UpstreamError)
  t.match((err as UpstreamError).context, { callee: 'ledger', statusCode: 403, upstreamCode: 'caller_not_allowed', path: '/v1/echo' })
  t.equal((err as UpstreamError).retry, false)
  t.match(text(), /spiffe auth refused/, 'the callee logged the refusal')
})

t.test('5xx answers are retryable UpstreamErrors with the upstream code', async (t) => {
  const client = createServiceClient({ callee: 'ledger', zoneMap: map, svids: ids.client('cards'), baseUrl })
  t.teardown(() => client.close())
  const err = await client.request({ method: 'GET', path: '/v1/down' }).catch((e: unknown) => e)
  t.ok(err instanceof UpstreamError)
  t.match((err as UpstreamError).context, { statusCode: 503, upstreamCode: 'ledger_paused' })
  t.equal((err as UpstreamError).retry, true)
})

t.test('deadline passed: DeadlineError', async (t) => {
  const client = createServiceClient({ callee: 'ledger', zoneMap: map, svids: ids.client('cards'), baseUrl, timeoutMs: 150 })
  t.teardown(() => client.close())
  const started = Date.now()
  const err = await client.request({ method: 'GET', path: '/v1/slow' }).catch((e: unknown) => e)
  t.ok(err instanceof DeadlineError, 'DeadlineError')
  t.equal((err as DeadlineError).code, 'upstream_deadline_exceeded')
  t.ok(Date.now() - started < 900, 'did not wait for the slow answer')
})

t.test('nothing listening: retryable UpstreamError', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const client = createServiceClient({ callee: 'ledger', zoneMap: map, svids: ids.client('cards'), baseUrl: `http://127.0.0.1:${port}` })
  t.teardown(() => client.close())
  const err = await client.request({ method: 'GET', path: '/v1/probe' }).catch((e: unknown) => e)
  t.ok(err instanceof UpstreamError)
  t.equal((err as UpstreamError).code, 'upstream_unreachable')
  t.equal((err as UpstreamError).retry, true)
})

void t.test('batchResults: one result per item, or a typed error', async (t) => {
  const ctx = { callee: 'card-vault', method: 'POST', path: '/v1/verify/batch' }
  t.same(batchResults({ results: [1, 2] }, 2, ctx), [1, 2])
  t.throws(() => batchResults({ results: [1] }, 2, ctx), UpstreamError)
  t.throws(() => batchResults(undefined, 1, ctx), { code: 'upstream_bad_response' })
})
