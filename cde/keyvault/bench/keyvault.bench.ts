/**
 * `pnpm bench:keyvault`: figures written to bench/results.json.
 * - in-process: payment-crypto verify calls per second on one core (CVV, PVV, ARQC);
 * - over HTTP: CVV verifications per second through `node-vault` (keep-alive agent) against one
 *   key-service process (`tsx src/main.ts`) on real PostgreSQL, every request and response audited
 *   durably (group commit) before the answer.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cvv, generateArqcProfile, pvv, verifyArqcProfile, verifyCvv, verifyPvv } from '@cardplane/payment-crypto'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { startDevSpiffe } from '@cardplane/tool-dev-spiffe'
import { loadZoneMap, serviceByName } from '@cardplane/zones'
import { Worker } from 'node:worker_threads'
import vault from 'node-vault'
import pg from 'pg'
import { createCore } from '../src/build-core.js'
import type { LoadParams, LoadResult } from './load-client.js'

const here = dirname(fileURLToPath(import.meta.url))
const pkgDir = resolve(here, '..')
const ADMIN_URL = process.env.KEYVAULT_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const HTTP_SECONDS = Number(process.env.KEYVAULT_BENCH_SECONDS ?? 10)
const CONCURRENCY = Number(process.env.KEYVAULT_BENCH_CONCURRENCY ?? 128)
/**
 * Client worker threads generating load, per transport. With the undici transport one thread spends
 * ~40 µs per call and keeps the server busy; a second thread on this 2-core machine only adds a third
 * runnable thread next to the server and PostgreSQL (more context switches, fewer answers per wake-up,
 * ~2x the client CPU per call). node-vault's axios default spends ~750 µs per call: it needs two.
 */
const CLIENTS_FOR: Record<LoadParams['transport'], number> = {
  undici: Number(process.env.KEYVAULT_BENCH_CLIENTS ?? 1),
  axios: Number(process.env.KEYVAULT_BENCH_CLIENTS ?? 2),
}
/** node-vault transports measured (comma-separated): `undici` (@cardplane/vault-transport) and `axios` (its default). */
const TRANSPORTS = (process.env.KEYVAULT_BENCH_TRANSPORTS ?? 'undici,axios').split(',').filter((x): x is LoadParams['transport'] => x === 'undici' || x === 'axios')
/**
 * Also measure the card vault's way of calling: `batch_input` with this many items per request over the
 * undici transport (0 = skip). Reported apart (`http_node_vault_undici_batch`): the target is per request.
 */
const BATCH = Number(process.env.KEYVAULT_BENCH_BATCH ?? 16)
/** Skip the in-process figures (for quick HTTP-only runs while profiling). */
const HTTP_ONLY = process.env.KEYVAULT_BENCH_HTTP_ONLY === '1'

const CVK = '0123456789ABCDEFFEDCBA9876543210'
const PAN = '4123456789012345'

function perSecond(fn: () => unknown, ms = 1500): number {
  for (let i = 0; i < 2000; i++) fn()
  let n = 0
  const start = process.hrtime.bigint()
  const end = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < end) {
    for (let i = 0; i < 200; i++) fn()
    n += 200
    now = process.hrtime.bigint()
  }
  return Math.round(n / (Number(now - start) / 1e9))
}

function inProcess(): Record<string, number> {
  const cvvInput = { cvk: CVK, pan: PAN, expiry: '8701', serviceCode: '101' }
  const cv = cvv(cvvInput)
  const pvvInput = { pvk: CVK, pan: PAN, pvki: '1', pin: '1234' }
  const pv = pvv(pvvInput)
  const emv = { profile: 'visa-cvn18' as const, imk: CVK, pan: PAN, psn: '00', atc: '0001', cdolData: '000000001000000000000000084000000000000840230101001234567800' }
  const arqc = generateArqcProfile(emv)
  return {
    cvv_verify_per_sec: perSecond(() => verifyCvv({ ...cvvInput, cvv: cv })),
    pvv_verify_per_sec: perSecond(() => verifyPvv({ ...pvvInput, pvv: pv })),
    arqc_verify_per_sec: perSecond(() => verifyArqcProfile({ ...emv, arqc, csu: '00820000' })),
  }
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))))
    })
  })
}

async function waitHealthy(url: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      const r = await fetch(`${url}/v1/sys/health`)
      if (r.status === 501 || r.status === 503 || r.status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error('key service did not start')
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function overHttp(): Promise<Record<string, Record<string, number | string | number[]>>> {
  const dbName = `kv_bench_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  await admin.end()
  const dbUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`)
  const zoneMap = loadZoneMap()
  const dir = await mkdtemp(join(tmpdir(), 'kvb-'))
  const spiffe = await startDevSpiffe({
    dir,
    trustDomain: zoneMap.trustDomain,
    services: ['keyvault', 'card-vault'].map((n) => ({ name: n, spiffeId: serviceByName(zoneMap, n).spiffeId })),
  })
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  // KEYVAULT_BENCH_PROFILE=<dir>: CPU profile of the key service process, for finding hot spots.
  const profile = process.env.KEYVAULT_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.KEYVAULT_BENCH_PROFILE] : []
  // KEYVAULT_BENCH_SERVER=<path to a main.ts>: another build of the service (A/B runs against an older commit).
  const entry = process.env.KEYVAULT_BENCH_SERVER ?? join(pkgDir, 'src/main.ts')
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry], {
    cwd: pkgDir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: dbUrl, SPIFFE_ENDPOINT_SOCKET: spiffe.endpoint('keyvault') },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const exited = new Promise<never>((_, rej) => child.once('exit', (code) => rej(new Error(`key service exited (${code})`))))
  exited.catch(() => undefined)
  const cardVault = new WorkloadApiClient({ socketPath: spiffe.endpoint('card-vault') })
  try {
    await Promise.race([waitHealthy(url), exited])
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
    const anon = vault({ endpoint: url, noCustomHTTPVerbs: true, requestOptions: { httpAgent: agent } })
    const init = (await anon.init({ secret_shares: 5, secret_threshold: 3 })) as { keys: string[]; root_token: string }
    for (const k of init.keys.slice(0, 3)) await anon.unseal({ key: k })
    const root = vault({ endpoint: url, noCustomHTTPVerbs: true, token: init.root_token, requestOptions: { httpAgent: agent } })
    await root.addPolicy({ name: 'card-vault', rules: JSON.stringify({ path: { 'payments/cvv/verify/*': { capabilities: ['update'] } } }) })
    await root.write('keys/bench-cvk', { type: 'cvk' })
    const svid = await cardVault.fetchJwtSvid(serviceByName(zoneMap, 'keyvault').spiffeId)
    const login = await anon.write('auth/spiffe/login', { jwt: svid.token })
    const token = String(login.auth.client_token)
    agent.destroy()
    const out: Record<string, Record<string, number | string | number[]>> = {}
    const runs: { name: string; transport: LoadParams['transport']; batch: number }[] = TRANSPORTS.map((t) => ({ name: t, transport: t, batch: 1 }))
    if (BATCH > 1 && TRANSPORTS.includes('undici')) runs.push({ name: 'undici_batch', transport: 'undici', batch: BATCH })
    for (const { name, transport, batch } of runs) {
      const run = (seconds: number) => runClients(url, token, seconds, transport, batch)
      await run(2) // warm-up (JIT, pool connections)
      const rowsBefore = await auditRows(dbUrl)
      const commitsBefore = await commits(dbUrl, dbName)
      const serverCpu0 = await processCpuMs(child.pid)
      const clientCpu0 = process.cpuUsage()
      const machine0 = await machineCpu()
      const load0 = loadavg()[0] ?? 0
      const t0 = Date.now()
      const r = await run(HTTP_SECONDS)
      const elapsed = (Date.now() - t0) / 1000
      const serverCpuMs = (await processCpuMs(child.pid)) - serverCpu0
      const clientCpu = process.cpuUsage(clientCpu0)
      const machine1 = await machineCpu()
      const load1 = loadavg()[0] ?? 0
      const rowsAfter = await auditRows(dbUrl)
      const commitsAfter = await commits(dbUrl, dbName)
      r.latencies.sort((a, b) => a - b)
      const pct = (p: number) => Math.round((r.latencies[Math.floor(r.latencies.length * p)] ?? 0) * 100) / 100
      const serverUs = r.ok ? Math.round((serverCpuMs * 1000) / r.ok) : 0
      const clientUs = r.ok ? Math.round((clientCpu.user + clientCpu.system) / r.ok) : 0
      out[name] = {
        transport: transport === 'undici' ? 'node-vault + @cardplane/vault-transport (request-promise option)' : 'node-vault default (axios, keep-alive http.Agent)',
        client_threads: CLIENTS_FOR[transport],
        ...(batch > 1 ? { items_per_request: batch, cvv_verifications_per_sec: Math.round((r.ok * batch) / elapsed), machine_cpu_us_per_verification: r.ok ? Math.round(((machine1.busyMs - machine0.busyMs) * 1000) / (r.ok * batch)) : 0 } : {}),
        cvv_verify_http_per_sec: Math.round(r.ok / elapsed),
        requests_ok: r.ok,
        requests_failed: r.failed,
        seconds: Math.round(elapsed * 10) / 10,
        concurrency: CONCURRENCY,
        latency_ms_p50: pct(0.5),
        latency_ms_p99: pct(0.99),
        audit_rows_written: rowsAfter - rowsBefore,
        // Group commit at work: transactions committed in the key service's database during the run
        // (audit batches plus the few counting queries), against rows written.
        database_commits: commitsAfter - commitsBefore,
        audit_rows_per_commit: commitsAfter > commitsBefore ? Math.round(((rowsAfter - rowsBefore) / (commitsAfter - commitsBefore)) * 10) / 10 : 0,
        // CPU actually spent per verification, independent of how busy the machine was: 1e6 / this
        // is what one uncontended core could serve.
        server_cpu_us_per_request: serverUs,
        client_cpu_us_per_request: clientUs,
        server_capacity_per_core_per_sec: serverCpuMs ? Math.round(r.ok / (serverCpuMs / 1000)) : 0,
        // Every process on the machine (PostgreSQL, the kernel's network stack, and any other work
        // running at the time), from /proc/stat: an upper bound on what the whole path costs.
        machine_cpu_us_per_request: r.ok ? Math.round(((machine1.busyMs - machine0.busyMs) * 1000) / r.ok) : 0,
        machine_cpu_busy_fraction: Math.round(((machine1.busyMs - machine0.busyMs) / Math.max(1, machine1.totalMs - machine0.totalMs)) * 100) / 100,
        // What two cores could carry if server and client had them to themselves (no PostgreSQL share).
        two_core_capacity_server_plus_client_per_sec: serverUs + clientUs ? Math.round((2 * 1e6) / (serverUs + clientUs)) : 0,
        machine_load_average_1m: [Math.round(load0 * 10) / 10, Math.round(load1 * 10) / 10],
      }
    }
    return out
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    cardVault.close()
    await spiffe.stop()
    await rm(dir, { recursive: true, force: true })
    const a = new pg.Client({ connectionString: ADMIN_URL })
    await a.connect()
    await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await a.end()
  }
}

/**
 * The key service's request path without HTTP: `core.handle` (token, ACL, CVV verify, request and
 * response audit rows committed by group commit) with CONCURRENCY requests in flight, on its own
 * database. What the service logic and the audit log sustain, separate from the HTTP stack.
 */
async function coreInProcess(seconds: number): Promise<Record<string, number>> {
  const dbName = `kv_bench_core_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  await admin.end()
  const pool = new pg.Pool({ connectionString: ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`), max: 8, options: '-c synchronous_commit=on' })
  const zoneMap = loadZoneMap()
  const bundles = { getBundle: () => undefined, ready: async () => undefined }
  const core = await createCore({ pool, settings: { self: serviceByName(zoneMap, 'keyvault'), zoneMap, bundles, spiffeRoles: {}, tokenTtlSec: 900 } })
  try {
    let n = 0
    const call = async (operation: 'read' | 'update', path: string, data: Record<string, unknown>, token?: string) =>
      core.handle({ id: `b${n++}`, operation, path, data, query: {}, token, remoteAddress: '127.0.0.1' })
    const init = (await call('update', 'sys/init', { secret_shares: 5, secret_threshold: 3 })).body as { keys: string[]; root_token: string }
    for (const k of init.keys.slice(0, 3)) await call('update', 'sys/unseal', { key: k })
    await call('update', 'keys/bench-cvk', { type: 'cvk' }, init.root_token)
    const body = { pan: PAN, expiry: '2912', service_code: '101', cvv: '123' }
    const loop = async (ms: number): Promise<number> => {
      let ok = 0
      const until = Date.now() + ms
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (Date.now() < until) {
            const r = await call('update', 'payments/cvv/verify/bench-cvk', body, init.root_token)
            if (r.status === 200) ok++
          }
        }),
      )
      return ok
    }
    await loop(1000)
    const c0 = process.cpuUsage()
    const t0 = Date.now()
    const ok = await loop(seconds * 1000)
    const elapsed = (Date.now() - t0) / 1000
    const c = process.cpuUsage(c0)
    return {
      core_cvv_verify_per_sec: Math.round(ok / elapsed),
      cpu_us_per_request: ok ? Math.round((c.user + c.system) / ok) : 0,
      audit_rows_per_commit: core.audit.stats.batches ? Math.round((core.audit.stats.rows / core.audit.stats.batches) * 10) / 10 : 0,
    }
  } finally {
    core.seal.sealNow()
    await core.audit.close()
    await pool.end()
    const a = new pg.Client({ connectionString: ADMIN_URL })
    await a.connect()
    await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await a.end()
  }
}

/** CLIENTS_FOR[transport] worker threads of node-vault load against `url`, results merged. */
async function runClients(url: string, token: string, seconds: number, transport: LoadParams['transport'], batch = 1): Promise<LoadResult> {
  const CLIENTS = CLIENTS_FOR[transport]
  // Batched calls carry many items each: fewer in flight keeps the items in flight comparable.
  const per = Math.max(1, Math.floor((batch > 1 ? Math.ceil(CONCURRENCY / batch) * 2 : CONCURRENCY) / CLIENTS))
  const params: LoadParams = { url, token, seconds, concurrency: per, transport, batch }
  const results = await Promise.all(
    Array.from({ length: CLIENTS }, () =>
      new Promise<LoadResult>((res, rej) => {
        const w = new Worker(new URL('./load-worker.mjs', import.meta.url), { workerData: params })
        w.once('message', (m: LoadResult) => res(m))
        w.once('error', rej)
      }),
    ),
  )
  return results.reduce((a, b) => ({ ok: a.ok + b.ok, failed: a.failed + b.failed, latencies: a.latencies.concat(b.latencies) }))
}

/** The same client load against a bare HTTP server (bench/trivial-server.mjs) in its own process. */
async function baseline(seconds: number): Promise<Record<string, Record<string, number | number[]>>> {
  const port = await freePort()
  const child = spawn(process.execPath, [join(here, 'trivial-server.mjs')], { env: { ...process.env, PORT: String(port) }, stdio: 'inherit' })
  try {
    const url = `http://127.0.0.1:${port}`
    for (let i = 0; i < 50; i++) {
      try {
        await fetch(url)
        break
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    const out: Record<string, Record<string, number | number[]>> = {}
    for (const transport of TRANSPORTS) {
      await runClients(url, 'x', 1, transport)
      const cpu0 = await processCpuMs(child.pid)
      const clientCpu0 = process.cpuUsage()
      const load0 = loadavg()[0] ?? 0
      const t0 = Date.now()
      const r = await runClients(url, 'x', seconds, transport)
      const cpuMs = (await processCpuMs(child.pid)) - cpu0
      const clientCpu = process.cpuUsage(clientCpu0)
      out[transport] = {
        trivial_server_http_per_sec: Math.round(r.ok / ((Date.now() - t0) / 1000)),
        requests_ok: r.ok,
        server_cpu_us_per_request: r.ok ? Math.round((cpuMs * 1000) / r.ok) : 0,
        client_cpu_us_per_request: r.ok ? Math.round((clientCpu.user + clientCpu.system) / r.ok) : 0,
        machine_load_average_1m: [Math.round(load0 * 10) / 10, Math.round((loadavg()[0] ?? 0) * 10) / 10],
      }
    }
    return out
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}

/** utime + stime of a process from /proc, in ms (Linux; 0 elsewhere). */
async function processCpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return 0
  }
}

/** Busy and total CPU time of the whole machine from /proc/stat, in ms (all cores). */
async function machineCpu(): Promise<{ busyMs: number; totalMs: number }> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? ''
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const total = v.reduce((a, b) => a + b, 0)
    const idle = (v[3] ?? 0) + (v[4] ?? 0)
    return { busyMs: ((total - idle) * 1000) / 100, totalMs: (total * 1000) / 100 }
  } catch {
    return { busyMs: 0, totalMs: 0 }
  }
}

/** Committed transactions of one database (statistics are updated asynchronously: force a flush). */
async function commits(dbUrl: string, dbName: string): Promise<number> {
  const c = new pg.Client({ connectionString: dbUrl })
  await c.connect()
  await c.query('SELECT pg_stat_force_next_flush()').catch(() => undefined)
  const r = await c.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [dbName])
  await c.end()
  return Number(r.rows[0]?.n ?? 0)
}

/**
 * After the in-process figure wrote and dropped a database of audit rows: flush PostgreSQL's dirty
 * buffers now (CHECKPOINT) and let the machine settle, so the checkpointer's writes do not land in the
 * HTTP figure that follows (they cost it a quarter of its throughput in one run).
 */
async function settleDatabase(): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL })
  await c.connect()
  await c.query('CHECKPOINT').catch(() => undefined)
  await c.end()
  await new Promise((r) => setTimeout(r, 3000))
}

async function auditRows(dbUrl: string): Promise<number> {
  const c = new pg.Client({ connectionString: dbUrl })
  await c.connect()
  const r = await c.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log')
  await c.end()
  return Number(r.rows[0]?.n ?? 0)
}

const loadAtStart = loadavg().map((x) => Math.round(x * 10) / 10)
const inproc = HTTP_ONLY ? {} : inProcess()
console.log('in-process', inproc)
const coreFigures = HTTP_ONLY ? {} : await coreInProcess(Math.min(HTTP_SECONDS, 5))
console.log('core in-process (audited, no HTTP)', coreFigures)
if (!HTTP_ONLY) await settleDatabase()
const httpFigures = await overHttp()
console.log('over HTTP', httpFigures)
const base = await baseline(Math.min(HTTP_SECONDS, 5))
console.log('baseline', base)
if (HTTP_ONLY) process.exit(0)
const results = {
  measured_at: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, load_average_at_start_1_5_15m: loadAtStart },
  in_process: inproc,
  core_in_process_audited: coreFigures,
  http_node_vault_undici: httpFigures.undici,
  http_node_vault_axios: httpFigures.axios,
  http_node_vault_undici_batch: httpFigures.undici_batch,
  http_baseline_bare_server: base,
  target_http_per_sec: 5000,
  how_measured: [
    `Key service: one process (tsx src/main.ts, LOG_LEVEL=warn) on its own PostgreSQL database; client: this process with worker threads of node-vault (undici: ${CLIENTS_FOR.undici}, axios: ${CLIENTS_FOR.axios}) (noCustomHTTPVerbs), ${CONCURRENCY} requests in flight in closed loops, keep-alive connections, ${HTTP_SECONDS} s per transport after a 2 s warm-up.`,
    'Transports: undici = node-vault with @cardplane/vault-transport through its documented request-promise option; axios = node-vault default transport with a keep-alive http.Agent.',
    'CPU µs per request: server from /proc/<pid>/stat (utime+stime), client from process.cpuUsage() (all worker threads), machine from /proc/stat (every process, PostgreSQL and other work included).',
    'Each request is one pure call: one exchange audit row (request and response), committed (group commit, synchronous_commit=on) before the reply.',
    `http_node_vault_undici_batch: the card vault's way of calling, Vault's batch_input with ${BATCH} items per request (one exchange row per request); the per-request figures above are the ones the target is about.`,
    'http_baseline_bare_server: the same node-vault load against a bare node:http server doing nothing, right after: the ceiling the machine allowed at that moment.',
    'With a load average above 2 (2 cores) other work competed for the CPUs: wall-clock figures are then lower bounds; CPU per request is the comparable figure.',
  ],
}
await writeFile(join(here, 'results.json'), JSON.stringify(results, null, 2) + '\n')
console.log(`written ${join(here, 'results.json')}`)
