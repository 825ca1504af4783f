import type { FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Metrics of one app: its own registry (never the global one, so tests can build many apps). */
export interface AppMetrics {
  registry: Registry
  /** `http_request_duration_seconds{method, route, status_code}`. */
  requestDuration: Histogram<'method' | 'route' | 'status_code'>
  /** `http_requests_total{method, route, status_code}`. */
  requestsTotal: Counter<'method' | 'route' | 'status_code'>
  /** `cardplane_errors_total{code}`: errors that reached the error handler, by stable code. */
  errorsTotal: Counter<'code'>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus metrics; add service metrics to `metrics.registry`. */
    metrics: AppMetrics
  }
}

/** Options of registerMetrics. */
export interface MetricsOptions {
  service: string
  /** Node process metrics (heap, event loop lag, GC); on by default, tests may turn them off. */
  defaultMetrics?: boolean
}

/**
 * Register `/metrics` and the request hooks. The `route` label is the route pattern
 * (`/v1/cards/:id`), never the raw URL: raw URLs would explode cardinality and could carry data.
 */
export function registerMetrics(app: FastifyInstance, opts: MetricsOptions): AppMetrics {
  const registry = new Registry()
  registry.setDefaultLabels({ service: opts.service })
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry })
  const labelNames = ['method', 'route', 'status_code'] as const
  const metrics: AppMetrics = {
    registry,
    requestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by route pattern, method and status.',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5],
      registers: [registry],
    }),
    requestsTotal: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests, by route pattern, method and status.',
      labelNames,
      registers: [registry],
    }),
    errorsTotal: new Counter({
      name: 'cardplane_errors_total',
      help: 'Errors handled by the error handler, by stable error code.',
      labelNames: ['code'],
      registers: [registry],
    }),
  }
  app.decorate('metrics', metrics)

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    }
    metrics.requestDuration.observe(labels, reply.elapsedTime / 1000)
    metrics.requestsTotal.inc(labels)
  })

  app.get('/metrics', { config: { public: true }, logLevel: 'warn' }, async (_request, reply) => {
    const body = await registry.metrics()
    return reply.header('content-type', registry.contentType).send(body)
  })
  return metrics
}
