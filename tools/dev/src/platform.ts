import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { startDevSpiffe, type DevSpiffe } from '@cardplane/tool-dev-spiffe'
import { REPO_ROOT, loadZoneMap, type ZoneMap, type ZoneService } from '@cardplane/zones'
import { runBootstrap, type BootstrapResult } from './bootstrap.js'
import { startServiceProcess, stopServiceProcess, waitHttp, type ServiceProcess } from './child.js'
import { freePort, portInUse } from './ports.js'
import { deleteRedisKeys } from './redis-keys.js'
import {
  PreflightError,
  checkPostgres,
  checkRedis,
  databaseName,
  databaseUrl,
  dropDatabases,
  ensureDatabases,
} from './preflight.js'

/** How one service fared. */
export interface ServiceStatus {
  name: string
  group: number
  port: number
  spiffeId: string
  url: string
  database: string
  /** Process id while it runs. */
  pid?: number
  /**
   * `ready`: /readyz answers 200. `live`: /healthz answers but /readyz did not in time (or was not waited
   * for). `missing`: no `src/main.ts` yet. `failed`: exited or never answered /healthz. `starting` meanwhile.
   */
  state: 'starting' | 'live' | 'ready' | 'missing' | 'failed'
  /** Why it is not ready. */
  reason?: string
}

/** Options of startPlatform. */
export interface PlatformOptions {
  /** Where sockets and other runtime state go (`<stateDir>/spiffe/<service>.sock`). Keep it short: sockets have a ~100 byte path limit. */
  stateDir: string
  /** Database names are `<prefix>_<service>`; dev uses `cardplane`, tests a unique prefix. */
  databasePrefix: string
  /** `dev`: each service's devPort from the zone map; `ephemeral`: free ports chosen now. */
  ports: 'dev' | 'ephemeral'
  /** Only these services (default: every service in the zone map). */
  services?: string[]
  /** PostgreSQL URL of a user that may create databases (default CARDPLANE_PG_URL or local). */
  pgUrl?: string
  /** Redis URL (default CARDPLANE_REDIS_URL or local). */
  redisUrl?: string
  zoneMap?: ZoneMap
  /** LOG_LEVEL for services (default info). */
  logLevel?: string
  /**
   * Readiness limit in ms, counted from the start of all processes (default 180 s): ten tsx processes
   * on two busy cores can take more than a minute, but a service that never gets ready must not hang start.
   */
  readyTimeoutMs?: number
  /** Run `src/bootstrap/*` once every service is live (default true). */
  bootstrap?: boolean
  /** Folder of bootstrap steps (default `tools/dev/src/bootstrap`; tests pass their own). */
  bootstrapDir?: string
  /**
   * `ready` (default): wait for every /readyz after bootstrap. `live`: stop waiting once /healthz answers
   * (tests that only need the processes and their identities, not initialised dependencies).
   */
  waitFor?: 'live' | 'ready'
  /** Drop the databases on stop, and delete the Redis keys under the prefix (tests; default false). */
  dropDatabasesOnStop?: boolean
  /** Every output line of every service (already scrubbed by the service's logger). */
  onLog?: (service: string, stream: 'stdout' | 'stderr', line: string) => void
  /** Supervisor progress messages. */
  log?: (msg: string) => void
  /** Abort during start (Ctrl-C): everything started so far is stopped and startPlatform rejects. */
  signal?: AbortSignal
}

/** A running platform. */
export interface Platform {
  /** Base URL of every service, started or not (`http://127.0.0.1:<port>`). */
  urls: Record<string, string>
  services: ServiceStatus[]
  spiffe: DevSpiffe
  zoneMap: ZoneMap
  bootstrap: BootstrapResult[]
  /** Stop every service (SIGTERM, then SIGKILL after a grace period), the Workload API, remove sockets. Idempotent. */
  stop(): Promise<void>
}

/** Defaults for CARDPLANE_PG_URL / CARDPLANE_REDIS_URL. */
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

/**
 * The Redis key prefixes of the services that keep keys in Redis follow the database prefix, as their
 * databases do: `cardplane` gives the services' own defaults (`cardplane:processor:`,
 * `cardplane:authorizations`), a test's unique prefix keys of its own, apart from a running `pnpm start`.
 */
export function redisPrefixes(service: string, databasePrefix: string): Record<string, string> {
  if (service === 'processor') return { PROCESSOR_REDIS_PREFIX: `${databasePrefix}:processor:` }
  if (service === 'authorizations') return { VELOCITY_KEY_PREFIX: `${databasePrefix}:authorizations` }
  return {}
}

/**
 * Boot the platform: check PostgreSQL and Redis, create one database per service, start dev-spiffe
 * with one socket per service, start every service as `tsx <dir>/src/main.ts` on loopback with its own
 * socket and environment, wait for each `/readyz`, then run the bootstrap steps. Services that are
 * missing or fail are reported in `services`, never waited on forever.
 */
export async function startPlatform(opts: PlatformOptions): Promise<Platform> {
  const log = opts.log ?? (() => undefined)
  const zoneMap = opts.zoneMap ?? loadZoneMap(undefined, process.env.CARDPLANE_TRUST_DOMAIN ? { trustDomain: process.env.CARDPLANE_TRUST_DOMAIN } : {})
  const selected = zoneMap.services.filter((s) => !opts.services || opts.services.includes(s.name))
  for (const name of opts.services ?? []) {
    if (!zoneMap.services.some((s) => s.name === name)) throw new Error(`unknown service ${name} (not in the zone map)`)
  }
  const pgUrl = opts.pgUrl ?? process.env.CARDPLANE_PG_URL ?? DEFAULT_PG_URL
  const redisUrl = opts.redisUrl ?? process.env.CARDPLANE_REDIS_URL ?? DEFAULT_REDIS_URL
  const host = '127.0.0.1'

  opts.signal?.throwIfAborted()
  await checkPostgres(pgUrl, opts.pgUrl !== undefined || process.env.CARDPLANE_PG_URL !== undefined)
  await checkRedis(redisUrl, opts.redisUrl !== undefined || process.env.CARDPLANE_REDIS_URL !== undefined)
  const databases = Object.fromEntries(selected.map((s) => [s.name, databaseName(opts.databasePrefix, s.name)]))
  const created = await ensureDatabases(pgUrl, Object.values(databases))
  if (created.length) log(`created databases: ${created.join(', ')}`)

  // Ports: every service of the map gets a URL, so CARDPLANE_SERVICE_URLS is complete even for a subset.
  const ports: Record<string, number> = {}
  for (const s of zoneMap.services) ports[s.name] = opts.ports === 'dev' ? s.devPort : await freePort(host)
  if (opts.ports === 'dev') {
    const busy: string[] = []
    for (const s of selected) if (await portInUse(host, s.devPort)) busy.push(`${s.name} (${s.devPort})`)
    if (busy.length) {
      throw new PreflightError('port_in_use', `ports already in use: ${busy.join(', ')}. Is another pnpm start running?`)
    }
  }
  const urls = Object.fromEntries(zoneMap.services.map((s) => [s.name, `http://${host}:${ports[s.name]}`]))

  opts.signal?.throwIfAborted()
  const spiffeDir = join(opts.stateDir, 'spiffe')
  await mkdir(spiffeDir, { recursive: true, mode: 0o700 })
  const spiffe = await startDevSpiffe({
    dir: spiffeDir,
    trustDomain: zoneMap.trustDomain,
    services: selected.map((s) => ({ name: s.name, spiffeId: s.spiffeId })),
    log,
  })

  const procs = new Map<string, ServiceProcess>()
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killAll)
      await Promise.all([...procs.values()].map((p) => stopServiceProcess(p)))
      await spiffe.stop()
      await rm(spiffeDir, { recursive: true, force: true })
      if (opts.dropDatabasesOnStop) {
        await dropDatabases(pgUrl, Object.values(databases))
        await deleteRedisKeys(`${opts.databasePrefix}:`, redisUrl)
      }
    })()
    return stopped
  }
  // If the supervisor dies without stop(), do not leave services behind.
  const killAll = (): void => {
    for (const p of procs.values()) if (!p.hasExited()) p.child.kill('SIGTERM')
  }
  process.once('exit', killAll)
  // Ctrl-C during start: stop what runs; the waits below then end at once (processes exited).
  const onAbort = (): void => void stop()
  opts.signal?.addEventListener('abort', onAbort, { once: true })

  const statuses: ServiceStatus[] = []
  let bootstrap: BootstrapResult[] = []
  try {
    for (const s of selected) {
      const status = serviceStatus(s, ports[s.name]!, urls[s.name]!, databases[s.name]!)
      statuses.push(status)
      const entry = resolve(REPO_ROOT, s.dir, 'src/main.ts')
      if (!existsSync(entry)) {
        status.state = 'missing'
        status.reason = `${s.dir}/src/main.ts does not exist yet`
        continue
      }
      const env: Record<string, string> = {
        HOST: host,
        PORT: String(ports[s.name]),
        LOG_LEVEL: opts.logLevel ?? 'info',
        SPIFFE_ENDPOINT_SOCKET: spiffe.endpoint(s.name),
        CARDPLANE_TRUST_DOMAIN: zoneMap.trustDomain,
        CARDPLANE_SERVICE_URLS: JSON.stringify(urls),
        DATABASE_URL: databaseUrl(pgUrl, databases[s.name]!),
        REDIS_URL: redisUrl,
        ...redisPrefixes(s.name, opts.databasePrefix),
      }
      const proc = startServiceProcess(s.name, entry, env, (stream, line) => opts.onLog?.(s.name, stream, line))
      procs.set(s.name, proc)
      if (proc.child.pid !== undefined) status.pid = proc.child.pid
    }
    log(`started ${procs.size} service processes, waiting for /healthz`)
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 180_000)
    const waiting = setInterval(() => {
      const pending = statuses.filter((st) => st.state === 'starting')
      if (pending.length) log(`still waiting for: ${pending.map((st) => st.name).join(', ')}`)
    }, 15_000)
    waiting.unref()
    try {
      // Phase 1, live: the process answers. Readiness may depend on bootstrap (an unsealed key service),
      // so bootstrap runs between liveness and readiness.
      await Promise.all(
        statuses
          .filter((st) => procs.has(st.name))
          .map(async (st) => {
            const r = await waitHttp(st.url, '/healthz', procs.get(st.name)!, Math.max(0, deadline - Date.now()))
            if (r.ok) st.state = 'live'
            else {
              st.state = 'failed'
              st.reason = r.reason
            }
          }),
      )
      opts.signal?.throwIfAborted()
      if (opts.bootstrap !== false) {
        bootstrap = await runBootstrap({ urls, stateDir: opts.stateDir, log, spiffe, zoneMap }, opts.bootstrapDir)
      }
      if (opts.waitFor !== 'live') {
        log('waiting for /readyz')
        await Promise.all(
          statuses
            .filter((st) => st.state === 'live')
            .map(async (st) => {
              const r = await waitHttp(st.url, '/readyz', procs.get(st.name)!, Math.max(Math.min(30_000, opts.readyTimeoutMs ?? 180_000), deadline - Date.now()))
              if (r.ok) st.state = 'ready'
              else st.reason = r.reason
            }),
        )
      }
      opts.signal?.throwIfAborted()
    } finally {
      clearInterval(waiting)
    }
  } catch (err) {
    await stop()
    throw err
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
  return { urls, services: statuses, spiffe, zoneMap, bootstrap, stop }
}

function serviceStatus(s: ZoneService, port: number, url: string, database: string): ServiceStatus {
  return { name: s.name, group: s.group, port, spiffeId: s.spiffeId, url, database, state: 'starting' }
}
