// The authorisation path the load benchmarks drive: every service its own process (the test platform), Visa
// links on proxy-public, the issuer clients that issue and fund the cards. Shared by bench:auth,
// bench:auth:cpu and bench:auth:soak so they measure the same topology.
import { readFileSync, readdirSync } from 'node:fs'
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { freePorts, postgresClusterCpuUs, processCpuUs, startTestPlatform, TEST_KEYS, type TestPlatform } from '@cardplane/tool-leak-scan/platform'
import { setupClients } from '@cardplane/tool-sim'

export const PATH_SERVICES = ['keyvault', 'card-vault', 'ledger', 'authorizations', 'proxy-internal', 'processor', 'proxy-public'] as const

/** A Visa link on proxy-public; `passthrough`: the processor echoes frames after the same hops (the floor). */
export interface BenchLink {
  name: string
  mode?: 'passthrough'
}

export interface AuthPlatform {
  platform: TestPlatform
  /** proxy-public's port for each link, by name. */
  ports: Record<string, number>
  /** Issuer clients (card vault, ledger, authorizations) for issueCards. */
  setup: ReturnType<typeof setupClients>
  close(): Promise<void>
}

/** Extra environment per service from BENCH_SERVICE_ENV (JSON: `{"authorizations":{"DB_POOL_SIZE":"64"}}`), to try a setting. */
export function serviceEnvFromBench(): Record<string, Record<string, string>> {
  return JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}') as Record<string, Record<string, string>>
}

/** Extra Node.js flags for every service from BENCH_NODE_ARGS (space-separated), to try runtime settings. */
export function nodeArgsFromBench(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
}

/**
 * Start the path with quiet logs and `links` on proxy-public (ephemeral ports; the reveal page off so a running
 * `pnpm start` does not clash). `env` adds to each service's environment, `processorEnv` to the processor's.
 */
export async function startAuthPlatform(opts: {
  prefix: string
  links: BenchLink[]
  log: (m: string) => void
  env?: Record<string, Record<string, string>>
  processorEnv?: Record<string, string>
  nodeArgs?: Record<string, string[]>
}): Promise<AuthPlatform> {
  const extra = opts.env ?? {}
  const quiet = (name: string): Record<string, string> => ({ LOG_LEVEL: 'warn', ...extra[name] })
  const portList = await freePorts(opts.links.length)
  const ports = Object.fromEntries(opts.links.map((l, i) => [l.name, portList[i]!]))
  const linkLimits = { scheme: 'visa', framing: 'vmlh', allowedPeers: [], maxFrameSize: 4096, readTimeoutMs: 5000, idleTimeoutMs: 600_000, maxConnections: 16, maxInFlight: 1024 }
  const platform = await startTestPlatform({
    services: [...PATH_SERVICES],
    prefix: opts.prefix,
    log: opts.log,
    ...(opts.nodeArgs ? { nodeArgs: opts.nodeArgs } : {}),
    env: {
      keyvault: quiet('keyvault'),
      'card-vault': quiet('card-vault'),
      ledger: quiet('ledger'),
      authorizations: quiet('authorizations'),
      'proxy-internal': quiet('proxy-internal'),
      processor: {
        ...opts.processorEnv,
        PROCESSOR_LINKS: JSON.stringify(opts.links.map((l) => ({ name: l.name, scheme: 'visa', zpkName: TEST_KEYS.zpk, ...(l.mode ? { mode: l.mode } : {}) }))),
        ...quiet('processor'),
      },
      'proxy-public': {
        PUBLIC_REVEAL_PORT: '0',
        PUBLIC_LINKS: JSON.stringify(opts.links.map((l) => ({ name: l.name, port: ports[l.name], ...linkLimits }))),
        ...quiet('proxy-public'),
      },
    },
  })
  const clients: ServiceClient[] = []
  const mk = (callee: string, as: string): ServiceClient => {
    const c = createServiceClient({ callee, zoneMap: platform.zoneMap, svids: platform.workload(as), baseUrl: platform.urls[callee]!, timeoutMs: 60_000 })
    clients.push(c)
    return c
  }
  const setup = setupClients({ vault: mk('card-vault', 'processor'), ledger: mk('ledger', 'cards'), authorizations: mk('authorizations', 'cards') })
  return {
    platform,
    ports,
    setup,
    async close() {
      for (const c of clients) await c.close()
      await platform.stop()
    },
  }
}

/** The pid of every service of the path; throws if one is not running. */
export function servicePids(platform: TestPlatform): Record<string, number> {
  return Object.fromEntries(
    PATH_SERVICES.map((s) => {
      const pid = platform.pid(s)
      if (pid === undefined) throw new Error(`${s} is not running`)
      return [s, pid]
    }),
  )
}

function pidsNamed(re: RegExp): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return re.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '))
      } catch {
        return false
      }
    })
}

/**
 * How to read the CPU (µs, user + system) used so far by each part of the running path, in report order:
 * every service process, the PostgreSQL cluster (its backends come and go: postgresClusterCpuUs) and Redis.
 */
export function platformCpuReaders(platform: TestPlatform): Record<string, () => number> {
  const cpuOf = (pids: number[]) => (): number => pids.reduce((a, p) => a + processCpuUs(p), 0)
  const readers: Record<string, () => number> = {}
  for (const [s, pid] of Object.entries(servicePids(platform))) readers[s] = cpuOf([pid])
  readers.postgres = postgresClusterCpuUs
  readers.redis = cpuOf(pidsNamed(/redis-server/))
  return readers
}
