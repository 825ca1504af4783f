import t from 'tap'
import {
  ConflictError,
  DeadlineError,
  ForbiddenError,
  NotFoundError,
  UnavailableError,
  UpstreamError,
  ValidationError,
  createServiceApp,
  mapError,
  registerProbe,
} from '../src/index.js'
import { emptyBundles, memoryLogger, zoneMap } from './helpers.js'

t.test('error handler maps typed errors to status and public message only', async (t) => {
  const { logger, text } = memoryLogger()
  const app = await createServiceApp({ service: 'ledger', logger, bundles: emptyBundles(), zoneMap: zoneMap(), defaultMetrics: false })
  const cases = [
    [new ValidationError('amount_invalid', { message: 'internal detail A', publicMessage: 'amount must be positive' }), 400],
    [new ForbiddenError(), 403],
    [new NotFoundError('account_not_found'), 404],
    [new ConflictError('hold_exists', { message: 'internal detail B' }), 409],
    [new UnavailableError(), 503],
    [new UpstreamError(), 502],
    [new DeadlineError(), 504],
  ] as const
  cases.forEach(([err, _status], i) => {
    app.get(`/e/${i}`, { config: { public: true } }, async () => {
      throw err
    })
  })
  app.get('/e/plain', { config: { public: true } }, async () => {
    throw new Error('database password is hunter2')
  })
  for (const [i, [err, status]] of cases.entries()) {
    const res = await app.inject({ method: 'GET', url: `/e/${i}` })
    t.equal(res.statusCode, status, err.code)
    t.same(res.json(), { error: { code: err.code, message: err.publicMessage } })
    t.notMatch(res.body, /internal detail/)
  }
  const unavailable = await app.inject({ method: 'GET', url: '/e/4' })
  t.equal(unavailable.headers['retry-after'], '1')
  const plain = await app.inject({ method: 'GET', url: '/e/plain' })
  t.equal(plain.statusCode, 500)
  t.same(plain.json(), { error: { code: 'internal_error', message: 'internal error' } })
  t.match(text(), /hunter2/, 'internal message goes to the log (scrubbed of PANs only)')

  const notFound = await app.inject({ method: 'GET', url: '/healthz/nope' })
  t.equal(notFound.statusCode, 401, 'unknown routes are not open to anonymous callers')

  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /cardplane_errors_total\{code="hold_exists",service="ledger"\} 1/)
  t.match(metrics.body, /cardplane_errors_total\{code="internal_error",service="ledger"\} 1/)
  await app.close()
})

t.test('mapError: fastify client errors keep their status, others are 500', async (t) => {
  t.same(mapError(Object.assign(new Error('too big'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' })), {
    statusCode: 413,
    retry: false,
    body: { error: { code: 'ctp_body_too_large', message: 'too big' } },
  })
  t.equal(mapError(Object.assign(new Error('x'), { statusCode: 500 })).statusCode, 500)
  t.equal(mapError('a string').statusCode, 500)
  t.equal(new UnavailableError().retry, true)
  t.equal(new DeadlineError().retry, true)
  t.equal(new ConflictError().retry, false)
})

t.test('metrics: latency histogram and counters by route pattern', async (t) => {
  const { logger } = memoryLogger()
  const app = await createServiceApp({ service: 'cards', logger, bundles: emptyBundles(), zoneMap: zoneMap() })
  app.get('/public/items/:id', { config: { public: true } }, async () => ({ ok: true }))
  registerProbe(app)
  for (const id of ['1', '2', '3']) await app.inject({ method: 'GET', url: `/public/items/${id}` })
  await app.inject({ method: 'GET', url: '/v1/probe' })
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  const sample = (name: string, labels: string[]): string | undefined =>
    res.body.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)))
  const labels = ['method="GET"', 'route="/public/items/:id"', 'status_code="200"', 'service="cards"']
  t.ok(sample('http_request_duration_seconds_bucket', [...labels, 'le="0.005"']), 'histogram buckets')
  t.match(sample('http_request_duration_seconds_count', labels), / 3$/)
  t.match(sample('http_requests_total', labels), / 3$/)
  t.match(sample('http_requests_total', ['route="/v1/probe"', 'status_code="401"']), / 1$/, 'refused calls are counted')
  t.notMatch(res.body, /route="\/public\/items\/1"/, 'raw URLs are never labels')
  t.match(res.body, /process_cpu_user_seconds_total/, 'default process metrics')
  await app.close()
})

t.test('healthz, readyz with checks, draining', async (t) => {
  const { logger, text } = memoryLogger()
  const app = await createServiceApp({ service: 'cards', logger, bundles: emptyBundles(), zoneMap: zoneMap(), defaultMetrics: false })
  let dbUp = false
  app.readiness.add('database', async () => {
    if (!dbUp) throw new Error('connect ECONNREFUSED for 4111111111111111')
  })
  t.same((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' })
  const down = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(down.statusCode, 503)
  t.same(down.json(), { status: 'not_ready', checks: { 'spiffe-bundle': 'ok', database: 'failed' } })
  t.notMatch(down.body, /ECONNREFUSED/, 'no error text in the probe answer')
  t.match(text(), /readiness check failed/)
  t.notMatch(text(), /4111111111111111/)
  dbUp = true
  const up = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(up.statusCode, 200)
  t.same(up.json(), { status: 'ready', checks: { 'spiffe-bundle': 'ok', database: 'ok' } })
  app.readiness.drain()
  const draining = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(draining.statusCode, 503)
  t.equal(draining.json().checks.shutdown, 'draining')
  await app.close()
})

t.test('readiness check that hangs times out', async (t) => {
  const { logger } = memoryLogger()
  const app = await createServiceApp({ service: 'cards', logger, bundles: emptyBundles(), zoneMap: zoneMap(), defaultMetrics: false })
  app.readiness.add('slow', () => new Promise<void>(() => undefined))
  const started = Date.now()
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().checks.slow, 'timeout')
  t.ok(Date.now() - started < 4000)
  await app.close()
})
