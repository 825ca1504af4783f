/**
 * Test platform: starts real service processes (`tsx <dir>/src/main.ts`) on ephemeral loopback ports
 * with their own databases, a dev SPIFFE Workload API (one socket per service), and a key service
 * initialised, unsealed and loaded with test keys. Used by integration tests and benchmarks until the
 * dev supervisor's startPlatform covers the same ground. Every child's output goes to a log file in
 * the run directory, so the leak scanner can read what the services logged.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import vault from 'node-vault'
import pg from 'pg'
import { kcv } from '@cardplane/payment-crypto'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { startDevSpiffe, type DevSpiffe } from '@cardplane/tool-dev-spiffe'
import { loadZoneMap, REPO_ROOT, serviceByName, serviceNodeArgs, type ZoneMap } from '@cardplane/zones'
import { deleteRedisKeys, redisPrefixes } from '@cardplane/tool-dev'
export { deleteKeysByPrefix, deleteRedisKeys } from '@cardplane/tool-dev'

const ADMIN_URL = process.env.CARDPLANE_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Services with their own database. */
const DB_SERVICES = new Set(['keyvault', 'card-vault', 'cards', 'ledger', 'authorizations'])

/** Key names the test key service holds (dev names; a program refers to them). */
export const TEST_KEYS = {
  recordsKek: 'card-data',
  cvk: 'cvk-test',
  pvk: 'pvk-test',
  zpk: 'zpk-test',
  /** The card vault's PIN storage key (`pek`, the card vault's default CARD_VAULT_PIN_KEY). */
  pek: 'pin-storage',
  /** Clear CVK so tests can compute the CVV/iCVV a card's magstripe or chip would carry. */
  cvkMaterial: '0123456789ABCDEF0123456789ABCDEF'.split('').reverse().join(''),
  imk: 'imk-test',
  /** Clear IMK-AC so tests can compute ARQCs as a chip card would. */
  imkMaterial: '0123456789ABCDEFFEDCBA98765432100123456789ABCDEF'.slice(0, 32).split('').reverse().join(''),
  /** Clear ZPK (double-length TDES) so tests can build PIN blocks as an acquirer would. */
  zpkMaterial: '0123456789ABCDEFFEDCBA9876543210',
}

/** Options of startTestPlatform. */
export interface TestPlatformOptions {
  /** Services to start, in any order (keyvault first when listed). */
  services: string[]
  /** Database name prefix (unique per test file). */
  prefix: string
  /** Extra environment per service. */
  env?: Record<string, Record<string, string>>
  /** Extra node arguments per service (e.g. `--cpu-prof`). */
  nodeArgs?: Record<string, string[]>
  log?: (msg: string) => void
}

/** A running test platform. */
export interface TestPlatform {
  dir: string
  zoneMap: ZoneMap
  spiffe: DevSpiffe
  urls: Record<string, string>
  /** Database URLs by service. */
  databases: Record<string, string>
  /** Log file of each started service. */
  logFiles: Record<string, string>
  /** Workload API client with `service`'s identity (to call as that service). */
  workload(service: string): WorkloadApiClient
  /** Root node-vault client of the key service (when started). */
  keyvaultRoot?: vault.client
  /** Process id of a running service (the node process this platform spawned), undefined when not running. */
  pid(service: string): number | undefined
  /** Stop a service process and start it again (same port, same env). */
  restart(service: string): Promise<void>
  /**
   * The run's Redis prefix (`<tag>:`): the processor's and authorizations' keys are under it (as on the dev
   * platform, `<redisPrefix>processor:` and `<redisPrefix>authorizations`) unless a test sets its own.
   */
  redisPrefix: string
  /** Stop every service, drop the databases and delete the keys under `redisPrefix`; calling it again waits for the same stop. */
  stop(): Promise<void>
}

/**
 * /proc/<pid>/stat: the command name, and the fields after it (state first); undefined when the process is gone.
 */
function procStat(pid: number): { comm: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const end = stat.lastIndexOf(')')
    return { comm: stat.slice(stat.indexOf('(') + 1, end), fields: stat.slice(end + 2).split(' ') }
  } catch {
    return undefined
  }
}

/** Clock ticks (USER_HZ, 100 on Linux) to µs. */
const ticksUs = (ticks: string | undefined): number => (Number(ticks ?? 0) * 1e6) / 100

/** CPU time (user + system) a process has used, in µs, from /proc; 0 when it is gone (benchmarks). */
export function processCpuUs(pid: number): number {
  const f = procStat(pid)?.fields
  return f ? ticksUs(f[11]) + ticksUs(f[12]) : 0
}

/**
 * CPU time (user + system, µs) of a process's children that have exited and been waited for (`cutime` +
 * `cstime`): what a process that is gone used goes to its parent's account when the parent reaps it.
 */
export function reapedChildrenCpuUs(pid: number): number {
  const f = procStat(pid)?.fields
  return f ? ticksUs(f[13]) + ticksUs(f[14]) : 0
}

/**
 * CPU time (µs) the local PostgreSQL cluster has used so far: every running postgres process, plus what the
 * postmaster's exited children used (benchmarks). The difference of two readings is exact even when pools
 * close and open connections in between: a backend that exits moves from the running sum into its
 * postmaster's `cutime`/`cstime`, and one that starts is in the running sum. Counting only the backends seen
 * at the first reading lost every backend that exited (a negative figure when it had used much before).
 */
export function postgresClusterCpuUs(): number {
  const procs = new Map<number, string[]>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    // A process gone between the listing and the read is skipped: its CPU is in its parent's account.
    const stat = procStat(Number(d))
    if (stat?.comm === 'postgres') procs.set(Number(d), stat.fields)
  }
  let us = 0
  for (const f of procs.values()) {
    us += ticksUs(f[11]) + ticksUs(f[12])
    // A postmaster (its parent is not postgres) also carries its reaped children.
    if (!procs.has(Number(f[1]))) us += ticksUs(f[13]) + ticksUs(f[14])
  }
  return us
}

/** A free loopback TCP port (bound then released). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!
}

/**
 * A card program on the test keys: 16-digit PANs, three years' validity, service code 201, three PIN tries,
 * CVK/PVK from {@link TEST_KEYS}. Tests and benchmarks differ only in id, BIN and account range.
 */
export function testProgram(id: string, bin: string, accountStart: string, rangeSize = '1000000') {
  return { id, bin, panLength: 16, accountStart, rangeSize, validityMonths: 36, serviceCode: '201', pinTryLimit: 3, cvkName: TEST_KEYS.cvk, pvkName: TEST_KEYS.pvk, pvki: 1 }
}

/** Ports this process has handed out: the kernel may offer a closed one again, never give it twice. */
const handedOut = new Set<number>()

/**
 * `count` distinct free ports, none handed out before by this process. The probing sockets stay open until
 * every port is known: probing one port at a time and closing it before the next lets the kernel offer the
 * same port again (seen: card-vault and the processor given one port, the processor failing to bind while
 * card-vault answered its health check).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  const ports: number[] = []
  try {
    while (ports.length < count) {
      const s = createServer()
      servers.push(s)
      const port = await new Promise<number>((resolve, reject) => {
        s.once('error', reject)
        s.listen(0, '127.0.0.1', () => {
          const a = s.address()
          resolve(typeof a === 'object' && a ? a.port : 0)
        })
      })
      if (handedOut.has(port)) continue
      handedOut.add(port)
      ports.push(port)
    }
    return ports
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))))
  }
}

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

async function waitHealthy(url: string, child: ChildProcess, name: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`)
    try {
      const r = await fetch(`${url}/healthz`)
      if (r.ok) return
    } catch {
      // not listening yet
    }
    await sleep(150)
  }
  throw new Error(`${name} did not become healthy`)
}

/** Root client helpers: init, unseal, keys and the card-vault policy. */
async function setUpKeyvault(url: string): Promise<vault.client> {
  const anon = vault({ endpoint: url, noCustomHTTPVerbs: true })
  const init = (await anon.init({ secret_shares: 5, secret_threshold: 3 })) as { keys: string[]; root_token: string }
  for (const k of init.keys.slice(0, 3)) await anon.unseal({ key: k })
  const root = vault({ endpoint: url, noCustomHTTPVerbs: true, token: init.root_token })
  await root.write(`transit/keys/${TEST_KEYS.recordsKek}`, {})
  await importByComponents(url, root, TEST_KEYS.cvk, 'cvk', TEST_KEYS.cvkMaterial)
  await root.write(`keys/${TEST_KEYS.pvk}`, { type: 'pvk' })
  await importByComponents(url, root, TEST_KEYS.zpk, 'zpk', TEST_KEYS.zpkMaterial)
  await importByComponents(url, root, TEST_KEYS.imk, 'imk-ac', TEST_KEYS.imkMaterial)
  await root.write(`keys/${TEST_KEYS.pek}`, { type: 'pek' })
  const policy = {
    path: {
      [`payments/cvv/+/${TEST_KEYS.cvk}`]: { capabilities: ['update'] },
      [`payments/pin/pvv/+/${TEST_KEYS.pvk}`]: { capabilities: ['update'] },
      [`payments/emv/arqc/verify/${TEST_KEYS.imk}`]: { capabilities: ['update'] },
      'payments/pin/translate': { capabilities: ['update'] },
      [`payments/pin/encrypt/${TEST_KEYS.pek}`]: { capabilities: ['update'] },
      [`payments/pin/decrypt/${TEST_KEYS.pek}`]: { capabilities: ['update'] },
      [`payments/pin/rewrap/${TEST_KEYS.pek}`]: { capabilities: ['update'] },
      [`keys/${TEST_KEYS.pek}`]: { capabilities: ['read'] },
      [`transit/datakey/+/${TEST_KEYS.recordsKek}`]: { capabilities: ['update'] },
      [`transit/decrypt/${TEST_KEYS.recordsKek}`]: { capabilities: ['update'] },
      [`transit/rewrap/${TEST_KEYS.recordsKek}`]: { capabilities: ['update'] },
    },
  }
  await root.addPolicy({ name: 'card-vault', rules: JSON.stringify(policy) })
  return root
}

/** Enter a key as two XOR components under dual control (two custodian tokens). */
async function importByComponents(url: string, root: vault.client, keyName: string, type: string, material: string): Promise<void> {
  const len = material.length / 2
  const c1 = randomBytes(len)
  const c2 = Buffer.from(Buffer.from(material, 'hex').map((b, i) => b ^ (c1[i] ?? 0)))
  const comps = [c1.toString('hex').toUpperCase(), c2.toString('hex').toUpperCase()]
  await root.write(`keys/${keyName}/ceremony`, { type, algorithm: 'tdes', length: len, components: 2, exportable: false })
  for (const [i, comp] of comps.entries()) {
    const custodian = `custodian-${i + 1}`
    const t = (await root.write('auth/token/create', { policies: ['root'], meta: { custodian }, ttl: 600 })) as { auth: { client_token: string } }
    const c = vault({ endpoint: url, noCustomHTTPVerbs: true, token: t.auth.client_token })
    await c.write(`keys/${keyName}/ceremony/component`, { custodian, component: comp, kcv: kcv(comp, { algorithm: 'tdes' }) })
  }
}

/** Start the listed services as processes, wired together on loopback. */
export async function startTestPlatform(opts: TestPlatformOptions): Promise<TestPlatform> {
  const log = opts.log ?? (() => undefined)
  const zoneMap = loadZoneMap()
  const dir = await mkdtemp(join(tmpdir(), 'cp-'))
  const spiffe = await startDevSpiffe({
    dir: join(dir, 's'),
    trustDomain: zoneMap.trustDomain,
    services: zoneMap.services.map((s) => ({ name: s.name, spiffeId: s.spiffeId })),
  })
  const urls: Record<string, string> = {}
  const ports: Record<string, number> = {}
  const allocated = await freePorts(opts.services.length)
  opts.services.forEach((name, i) => {
    ports[name] = allocated[i]!
    urls[name] = `http://127.0.0.1:${ports[name]}`
  })
  const tag = `${opts.prefix}_${process.pid}_${randomBytes(3).toString('hex')}`.replace(/[^a-z0-9_]/g, '_')
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const databases: Record<string, string> = {}
  for (const name of opts.services) {
    if (!DB_SERVICES.has(name)) continue
    const db = `${tag}_${name.replace(/-/g, '_')}`
    await adminQuery(`CREATE DATABASE ${db}`)
    databases[name] = ADMIN_URL.replace(/\/[^/]*$/, `/${db}`)
  }
  const children = new Map<string, ChildProcess>()
  const envs = new Map<string, NodeJS.ProcessEnv>()
  const logFiles: Record<string, string> = {}
  const clients = new Map<string, WorkloadApiClient>()
  let exitHookInstalled = false

  const launch = async (name: string): Promise<void> => {
    const svc = serviceByName(zoneMap, name)
    let env = envs.get(name)
    if (!env) {
      env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(ports[name]),
        LOG_LEVEL: 'info',
        SPIFFE_ENDPOINT_SOCKET: spiffe.endpoint(name),
        CARDPLANE_SERVICE_URLS: JSON.stringify(urls),
        REDIS_URL: redisUrl,
        ...redisPrefixes(name, tag),
        ...(databases[name] ? { DATABASE_URL: databases[name] } : {}),
        ...(name === 'keyvault' ? { KEYVAULT_AUDIT_FILE: join(dir, 'keyvault-audit.jsonl') } : {}),
        ...opts.env?.[name],
      }
      envs.set(name, env)
    }
    logFiles[name] = join(dir, `${name}.log`)
    const out = createWriteStream(logFiles[name], { flags: 'a' })
    const child = spawn(process.execPath, serviceNodeArgs(join(REPO_ROOT, svc.dir, 'src/main.ts'), opts.nodeArgs?.[name]), {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    // Two sources share one file: neither may end it (the other could still be writing).
    child.stdout?.pipe(out, { end: false })
    child.stderr?.pipe(out, { end: false })
    child.once('close', () => out.end())
    children.set(name, child)
    // A test runner that times out kills this process: take the services down with it.
    if (!exitHookInstalled) {
      exitHookInstalled = true
      const killAll = (): void => {
        for (const c of children.values()) if (c.exitCode === null) c.kill('SIGKILL')
      }
      process.once('exit', killAll)
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGALRM', 'SIGHUP'] as const) {
        process.once(sig, () => {
          killAll()
          process.exit(128 + 14)
        })
      }
    }
    await waitHealthy(urls[name]!, child, name)
    log(`${name} up at ${urls[name]}`)
  }

  const order = [...opts.services].sort((a, b) => (a === 'keyvault' ? -1 : b === 'keyvault' ? 1 : 0))
  let keyvaultRoot: vault.client | undefined
  const stopAll = async (): Promise<void> => {
    await Promise.all(
      [...children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve()
            c.once('exit', () => resolve())
            c.kill('SIGTERM')
            setTimeout(() => c.kill('SIGKILL'), 8000).unref()
          }),
      ),
    )
  }
  try {
    // The key service first (it must be unsealed and keyed before the card vault needs it), then the
    // rest in parallel: ports are fixed up front, so start order does not matter to them.
    if (order[0] === 'keyvault') {
      await launch('keyvault')
      keyvaultRoot = await setUpKeyvault(urls.keyvault!)
    }
    // Three at a time: a burst of TypeScript compiles on a busy machine starves every one of them.
    const rest = order.filter((n) => n !== 'keyvault')
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        for (let next = rest.shift(); next !== undefined; next = rest.shift()) await launch(next)
      }),
    )
  } catch (err) {
    await stopAll()
    await spiffe.stop()
    for (const url of Object.values(databases)) {
      await adminQuery(`DROP DATABASE IF EXISTS ${url.split('/').pop()} WITH (FORCE)`).catch(() => undefined)
    }
    await deleteRedisKeys(`${tag}:`, redisUrl).catch(() => undefined)
    if (process.env.CARDPLANE_KEEP_TEST_DIR !== '1') await rm(dir, { recursive: true, force: true })
    throw err
  }

  let stopping: Promise<void> | undefined
  return {
    dir,
    zoneMap,
    spiffe,
    urls,
    databases,
    logFiles,
    redisPrefix: `${tag}:`,
    ...(keyvaultRoot ? { keyvaultRoot } : {}),
    workload(service: string) {
      let c = clients.get(service)
      if (!c) {
        c = new WorkloadApiClient({ socketPath: spiffe.endpoint(service) })
        clients.set(service, c)
      }
      return c
    },
    pid(service: string) {
      const c = children.get(service)
      return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined
    },
    async restart(name: string) {
      const c = children.get(name)
      if (c && c.exitCode === null) {
        await new Promise<void>((resolve) => {
          c.once('exit', () => resolve())
          c.kill('SIGTERM')
        })
      }
      await launch(name)
    },
    stop() {
      stopping ??= (async () => {
        for (const c of clients.values()) c.close()
        await stopAll()
        await spiffe.stop()
        for (const name of Object.keys(databases)) {
          const db = databases[name]!.split('/').pop()
          await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined)
        }
        await deleteRedisKeys(`${tag}:`, redisUrl).catch(() => undefined)
        if (process.env.CARDPLANE_KEEP_TEST_DIR !== '1') await rm(dir, { recursive: true, force: true })
      })()
      return stopping
    },
  }
}
