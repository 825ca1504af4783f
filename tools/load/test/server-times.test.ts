import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { meanServerTimes, parseEventLoopLag, readServiceMetrics } from '../src/server-times.js'

// The metric as service-kit registers it: seconds, by method, route and status code.
function serviceMetrics(): { registry: Registry; h: Histogram<'method' | 'route' | 'status_code'> } {
  const registry = new Registry()
  const h = new Histogram({ name: 'http_request_duration_seconds', help: 'x', labelNames: ['method', 'route', 'status_code'], registers: [registry], buckets: [0.01, 0.1, 1] })
  return { registry, h }
}

void t.test('mean answering time per route over a run, status codes together, probes left out', async (t) => {
  const a = serviceMetrics()
  const b = serviceMetrics()
  const servers = [a, b].map((m) =>
    createServer((req, res) => {
      void m.registry.metrics().then((text) => res.end(req.url === '/metrics' ? text : ''))
    }),
  )
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))))
  t.teardown(() => servers.forEach((s) => s.close()))
  const urls = {
    ledger: `http://127.0.0.1:${(servers[0]!.address() as AddressInfo).port}`,
    authorizations: `http://127.0.0.1:${(servers[1]!.address() as AddressInfo).port}`,
    gone: 'http://127.0.0.1:1',
  }
  a.h.observe({ method: 'POST', route: '/v1/holds', status_code: '200' }, 5) // before the run: not counted
  const before = (await readServiceMetrics(urls)).totals
  a.h.observe({ method: 'POST', route: '/v1/holds', status_code: '200' }, 0.002)
  a.h.observe({ method: 'POST', route: '/v1/holds', status_code: '200' }, 0.004)
  a.h.observe({ method: 'POST', route: '/v1/holds', status_code: '409' }, 0.006)
  a.h.observe({ method: 'GET', route: '/healthz', status_code: '200' }, 0.001)
  b.h.observe({ method: 'POST', route: '/v1/decisions', status_code: '200' }, 0.02)
  b.h.observe({ method: 'GET', route: '/v1/cards/:id', status_code: '200' }, 0.5) // once: under minCount
  const after = (await readServiceMetrics(urls)).totals
  t.same(meanServerTimes(before, after, 1), {
    'authorizations GET /v1/cards/:id': { count: 1, meanMs: 500 },
    'authorizations POST /v1/decisions': { count: 1, meanMs: 20 },
    'ledger POST /v1/holds': { count: 3, meanMs: 4 },
  })
  t.same(Object.keys(meanServerTimes(before, after, 2)), ['ledger POST /v1/holds'], 'rarely called routes left out')
})

void t.test('event-loop delay per service, over the time since the previous scrape', async (t) => {
  const registry = new Registry()
  registry.setDefaultLabels({ service: 'processor' })
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1 })
  const server = createServer((_req, res) => {
    void registry.metrics().then((text) => res.end(text))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => server.close())
  const urls = { processor: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
  await readServiceMetrics(urls) // resets the monitor
  // Block this event loop for 60 ms twice: the delay read next must show it.
  for (let i = 0; i < 2; i++) {
    const until = Date.now() + 60
    while (Date.now() < until);
    await new Promise((r) => setTimeout(r, 20))
  }
  const after = await readServiceMetrics(urls)
  const lag = after.eventLoopLag.processor
  t.ok(lag, 'the service has a figure')
  t.ok(lag!.maxMs >= 50, `max ${lag!.maxMs} ms shows the blocked loop`)
  t.ok(lag!.p50Ms <= lag!.p99Ms && lag!.p99Ms <= lag!.maxMs, 'percentiles in order')
  const quiet = await readServiceMetrics(urls)
  t.ok((quiet.eventLoopLag.processor?.maxMs ?? Infinity) < 50, 'the previous scrape reset it')
  t.equal(parseEventLoopLag('http_requests_total 3\n'), undefined, 'a service without the metric has no figure')
  t.same(parseEventLoopLag('nodejs_eventloop_lag_mean_seconds{service="x"} 0.002\nnodejs_eventloop_lag_p50_seconds{service="x"} 0.001\nnodejs_eventloop_lag_p99_seconds{service="x"} 0.0125\nnodejs_eventloop_lag_max_seconds{service="x"} 0.03\n'), { meanMs: 2, p50Ms: 1, p99Ms: 12.5, maxMs: 30 })
})
