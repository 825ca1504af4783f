import type { FastifyInstance } from 'fastify'
import { isCardplaneError } from './errors.js'
import { scrubPan } from './pan-scrubber.js'

/** Options of runService. */
export interface RunServiceOptions {
  host: string
  port: number
  /** Called after the server closed (close clients, pools, the Workload API stream). */
  onClose?: () => Promise<void> | void
  /** Longest wait for in-flight requests on shutdown before exiting anyway (default 10 s). */
  shutdownTimeoutMs?: number
  /** Exit the process after shutdown (default true; tests pass false). */
  exit?: boolean
  /**
   * Exit when the parent process goes away (default true). A supervisor or test runner killed with
   * SIGKILL cannot forward signals; its children notice they were re-parented (checked every second)
   * and exit at once instead of lingering as orphans holding ports. Under a container init (parent
   * pid 0 or 1) this never fires.
   */
  stopWhenOrphaned?: boolean
}

/** Handle returned by runService. */
export interface RunningService {
  /** `http://host:port` actually bound (port 0 resolves to the ephemeral port). */
  url: string
  /** Graceful stop: drain readiness, close the server, run onClose. Idempotent. */
  stop(reason?: string): Promise<void>
}

/**
 * Listen, then stop gracefully on SIGTERM/SIGINT: `/readyz` turns 503 first so load balancers stop
 * sending, in-flight requests finish (bounded by shutdownTimeoutMs), then onClose runs and the process
 * exits 0 (1 if shutdown failed or timed out).
 */
export async function runService(app: FastifyInstance, opts: RunServiceOptions): Promise<RunningService> {
  const address = await app.listen({ host: opts.host, port: opts.port })
  const url = address.startsWith('http') ? address : `http://${opts.host}:${opts.port}`
  app.log.info({ url, service: app.service.name, spiffeId: app.service.spiffeId }, 'service listening')

  let stopping: Promise<void> | undefined
  const stop = (reason = 'stop'): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(orphanWatch)
      const timeoutMs = opts.shutdownTimeoutMs ?? 10_000
      if (opts.exit !== false) {
        // Last resort: whatever hangs (an onClose that never settles, a log write to a pipe nobody
        // reads any more after the supervisor died), the process still ends.
        setTimeout(() => process.exit(1), timeoutMs + 2000).unref()
      }
      app.log.info({ reason }, 'shutting down')
      app.readiness.drain()
      let timer: NodeJS.Timeout | undefined
      // Connections that turn idle after close() began would otherwise keep the server open.
      const sweeper = setInterval(() => app.server.closeIdleConnections(), 100)
      let failed = false
      try {
        await Promise.race([
          app.close(),
          new Promise<void>((_, reject) => {
            timer = setTimeout(() => {
              app.server.closeAllConnections()
              reject(new Error('shutdown timed out'))
            }, timeoutMs)
            timer.unref()
          }),
        ])
        await opts.onClose?.()
      } catch (err) {
        failed = true
        app.log.error({ err }, 'shutdown failed')
      } finally {
        clearTimeout(timer)
        clearInterval(sweeper)
        process.removeListener('SIGTERM', onSigterm)
        process.removeListener('SIGINT', onSigint)
      }
      if (opts.exit !== false) process.exit(failed ? 1 : 0)
    })()
    return stopping
  }
  const parentPid = process.ppid
  const orphanWatch =
    opts.stopWhenOrphaned !== false && parentPid > 1
      ? setInterval(() => {
          // Nobody is left to read our output (a write to the dead supervisor's pipe can block the
          // process for good) nor to wait for a graceful stop: leave at once.
          if (process.ppid !== parentPid) process.exit(1)
        }, 1000)
      : undefined
  orphanWatch?.unref()
  const onSigterm = (): void => void stop('SIGTERM')
  const onSigint = (): void => void stop('SIGINT')
  process.once('SIGTERM', onSigterm)
  process.once('SIGINT', onSigint)
  return { url, stop }
}

/**
 * Run a service's `main`: any error before the server is up (bad config, unreachable socket) is
 * printed as one line naming the error code, and the process exits 1 instead of dumping a stack.
 */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    const code = isCardplaneError(err) ? err.code : ((err as { code?: string }).code ?? 'startup_failed')
    const message = err instanceof Error ? err.message : String(err)
    process.stderr.write(scrubPan(`${name}: failed to start (${code}): ${message}\n`))
    process.exit(1)
  })
}
