import type { FastifyInstance } from 'fastify'

/** A readiness check: resolves when the dependency is usable, throws or rejects when not. */
export type ReadinessCheck = () => Promise<void> | void

/** Readiness checks of one app, shown at `/readyz`. */
export interface Readiness {
  /** Add a named check (database, bundle, upstream). */
  add(name: string, check: ReadinessCheck): void
  /** Stop reporting ready (graceful shutdown: drain before close). */
  drain(): void
  /** Whether drain() was called. */
  isDraining(): boolean
  /** Run every check once. */
  run(): Promise<{ ready: boolean; checks: Record<string, string> }>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Readiness checks behind `/readyz`. */
    readiness: Readiness
  }
}

/** Options of registerHealth. */
export interface HealthOptions {
  /** Per-check time limit in milliseconds (default 2000): a hung dependency is "not ready", not a hung probe. */
  checkTimeoutMs?: number
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

/**
 * `/healthz` (liveness: the process answers) and `/readyz` (every registered check passes and the app
 * is not draining). Both are public routes: Kubernetes probes carry no SPIFFE identity. Failed checks
 * report the check's name and "failed" or "timeout", never the error text.
 */
export function registerHealth(app: FastifyInstance, opts: HealthOptions = {}): Readiness {
  const checks = new Map<string, ReadinessCheck>()
  const checkTimeoutMs = opts.checkTimeoutMs ?? 2000
  let draining = false
  const readiness: Readiness = {
    add(name, check) {
      checks.set(name, check)
    },
    drain() {
      draining = true
    },
    isDraining() {
      return draining
    },
    async run() {
      const results: Record<string, string> = {}
      let ready = !draining
      if (draining) results.shutdown = 'draining'
      await Promise.all(
        [...checks].map(async ([name, check]) => {
          try {
            await withTimeout(Promise.resolve().then(check), checkTimeoutMs)
            results[name] = 'ok'
          } catch (err) {
            ready = false
            results[name] = (err as Error).message === 'timeout' ? 'timeout' : 'failed'
            app.log.warn({ check: name, err }, 'readiness check failed')
          }
        }),
      )
      return { ready, checks: results }
    },
  }
  app.decorate('readiness', readiness)
  // While draining, answers ask the client to close its keep-alive connection, so a server close
  // waits only for requests in flight, not for idle connections kept open by callers' pools.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) void reply.header('connection', 'close')
  })

  app.get('/healthz', { config: { public: true }, logLevel: 'warn' }, async () => ({ status: 'ok' }))
  app.get('/readyz', { config: { public: true }, logLevel: 'warn' }, async (_request, reply) => {
    const { ready, checks: results } = await readiness.run()
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results })
  })
  return readiness
}
