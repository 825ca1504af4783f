/**
 * `pnpm bench:card-vault`: starts keyvault, card-vault, processor and proxy-internal as real processes
 * (real PostgreSQL, real key service), then measures
 * 1. cards issued per second end to end through proxy-internal (as `cards`: proxy-internal ->
 *    processor CDE API -> card vault -> PostgreSQL), one card per request and 10 per request;
 * 2. PAN -> card ID + CVV2 verifications per second in the card vault (`POST /v1/verify` as the
 *    processor: keyed-HMAC lookup, record decrypt, CVV2 verify in the key service).
 * Figures go to cde/card-vault/bench/results.json.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import pg from 'pg'
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { processCpuUs, startTestPlatform, TEST_KEYS, testProgram } from '@cardplane/tool-leak-scan/platform'

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000)
/** The card vault's CVV batching (CARD_VAULT_CVV_BATCH_MAX): 1 = one key-service call per check. */
const CVV_BATCH_MAX = Number(process.env.CARD_VAULT_BENCH_CVV_BATCH_MAX ?? 64)
/** Verification figures only, printed and not written (quick runs while profiling). */
const VERIFY_ONLY = process.env.CARD_VAULT_BENCH_VERIFY_ONLY === '1'
const PROGRAM = testProgram('bench-debit', '45399140', '0000000', '10000000')

interface Figure {
  name: string
  concurrency: number
  durationS: number
  operations: number
  perSecond: number
  errors: number
  p50Ms: number
  p99Ms: number
  /** CPU µs per operation by process group, and the 1-minute load average before and after the run. */
  cpuUsPerOp?: Record<string, number>
  loadAverage1m?: [number, number]
  keyServiceCvvCalls?: { calls: number; items: number; itemsPerCall: number }
}

/** CVV verify calls and items in the key service's audit log: one `exchange` row per call, `batch_size` items (1 without a batch). */
async function keyvaultCvvCalls(url: string | undefined): Promise<{ calls: number; items: number }> {
  if (!url) return { calls: 0, items: 0 }
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  const r = await c.query<{ calls: string; items: string }>(
    `SELECT count(*)::text AS calls, coalesce(sum(coalesce((entry::json->'request'->>'batch_size')::int, 1)), 0)::text AS items FROM audit_log
     WHERE kind = 'exchange' AND entry LIKE '%"path":"payments/cvv/verify/%'`,
  )
  await c.end()
  return { calls: Number(r.rows[0]?.calls ?? 0), items: Number(r.rows[0]?.items ?? 0) }
}

/** Busy CPU time of the whole machine (all cores) from /proc/stat, in µs. */
async function machineBusyUs(): Promise<number> {
  const v = ((await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
  return ((v.reduce((a, b) => a + b, 0) - (v[3] ?? 0) - (v[4] ?? 0)) * 1e6) / 100
}

/** CPU of the groups that serve the benchmark: service processes, their PostgreSQL backends, this client, the machine. */
interface CpuProbe {
  sample(): Promise<Record<string, number>>
}

function cpuProbe(services: Record<string, number | undefined>, databases: Record<string, string>): CpuProbe {
  // PostgreSQL backends come and go (pools close idle connections): each sample adds what every backend used
  // since the previous sample (all of it for one not seen before); a backend that exited in between is not
  // counted for its last interval, rather than subtracting all it ever used.
  let seen = new Map<number, number>()
  const used = new Map<string, number>()
  return {
    async sample() {
      const out: Record<string, number> = {}
      for (const [name, pid] of Object.entries(services)) out[name] = pid ? processCpuUs(pid) : 0
      // PostgreSQL backends connected to the services' databases (background writers are shared and not counted),
      // in all and per service (`postgres_<service>`: what each service's queries cost the database).
      const c = new pg.Client({ connectionString: ADMIN_URL })
      await c.connect()
      const r = await c.query<{ pid: number; datname: string }>(
        'SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()',
        [Object.values(databases)],
      )
      await c.end()
      const now = new Map<number, number>()
      for (const row of r.rows) {
        const us = processCpuUs(row.pid)
        now.set(row.pid, us)
        used.set(row.datname, (used.get(row.datname) ?? 0) + Math.max(0, us - (seen.get(row.pid) ?? 0)))
      }
      seen = now
      let pgUs = 0
      for (const [service, db] of Object.entries(databases)) {
        out[`postgres_${service}`] = used.get(db) ?? 0
        pgUs += used.get(db) ?? 0
      }
      out.postgres_backends = pgUs
      const self = process.cpuUsage()
      out.bench_client = self.user + self.system
      out.machine_all_processes = await machineBusyUs()
      return out
    },
  }
}

const ADMIN_URL = process.env.CARD_VAULT_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
let probe: CpuProbe | undefined

async function run(name: string, concurrency: number, opsPerCall: number, call: () => Promise<void>): Promise<Figure> {
  const load0 = loadavg()[0] ?? 0
  const cpu0 = name !== 'warmup' ? await probe?.sample() : undefined
  const lat: number[] = []
  let ops = 0
  let errors = 0
  const start = performance.now()
  const end = start + DURATION_MS
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now()
        try {
          await call()
          ops += opsPerCall
        } catch {
          errors++
        }
        lat.push(performance.now() - t0)
      }
    }),
  )
  const secs = (performance.now() - start) / 1000
  const cpu1 = cpu0 ? await probe?.sample() : undefined
  lat.sort((a, b) => a - b)
  const q = (p: number) => Math.round((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0) * 10) / 10
  const f: Figure = { name, concurrency, durationS: Math.round(secs * 10) / 10, operations: ops, perSecond: Math.round(ops / secs), errors, p50Ms: q(0.5), p99Ms: q(0.99) }
  if (cpu0 && cpu1 && ops > 0) {
    f.cpuUsPerOp = Object.fromEntries(Object.keys(cpu1).map((k) => [k, Math.round(((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) / ops)]))
    f.loadAverage1m = [Math.round(load0 * 100) / 100, Math.round((loadavg()[0] ?? 0) * 100) / 100]
  }
  console.log(JSON.stringify(f))
  return f
}

const loadStart = loadavg()[0]
const platform = await startTestPlatform({
  services: ['keyvault', 'card-vault', 'processor', 'proxy-internal'],
  prefix: 'bench_cv',
  // CARD_VAULT_BENCH_PROFILE=<dir>: CPU profiles of the card vault and the key service, for finding hot spots.
  ...(process.env.CARD_VAULT_BENCH_PROFILE
    ? { nodeArgs: Object.fromEntries(['card-vault', 'keyvault'].map((n) => [n, ['--cpu-prof', '--cpu-prof-dir', process.env.CARD_VAULT_BENCH_PROFILE as string]])) }
    : {}),
  env: {
    'card-vault': { LOG_LEVEL: 'warn', CARD_VAULT_DB_POOL_SIZE: '30', CARD_VAULT_CVV_BATCH_MAX: String(CVV_BATCH_MAX) },
    processor: { LOG_LEVEL: 'warn' },
    'proxy-internal': { LOG_LEVEL: 'warn' },
    keyvault: { LOG_LEVEL: 'warn', KEYVAULT_DB_POOL_SIZE: '20' },
  },
})
const clients: ServiceClient[] = []
try {
  const pids: Record<string, number | undefined> = {}
  for (const svc of Object.keys(platform.urls)) pids[svc] = platform.pid(svc)
  probe = cpuProbe(pids, Object.fromEntries(Object.entries(platform.databases).map(([svc, u]) => [svc, new URL(u).pathname.slice(1)])))
  const viaProxy = createServiceClient({ callee: 'proxy-internal', zoneMap: platform.zoneMap, svids: platform.workload('cards'), baseUrl: platform.urls['proxy-internal']!, timeoutMs: 30_000, connections: 64 })
  const vault = createServiceClient({ callee: 'card-vault', zoneMap: platform.zoneMap, svids: platform.workload('processor'), baseUrl: platform.urls['card-vault']!, timeoutMs: 30_000, connections: 64 })
  clients.push(viaProxy, vault)
  const issue = (count: number) => async () => {
    await viaProxy.request({ method: 'POST', path: '/v1/cde/cards', body: { program: PROGRAM, count } })
  }
  // Warm up (program registration, data keys, connections, JIT).
  const figures: Figure[] = []
  if (!VERIFY_ONLY) {
    await run('warmup', 8, 1, issue(1)).catch(() => undefined)
    figures.push(await run('issue_via_proxy_internal_1_per_request', 32, 1, issue(1)))
    figures.push(await run('issue_via_proxy_internal_10_per_request', 16, 10, issue(10)))
  }

  // Cards to verify: issue, reveal once each (as the processor) to know PAN, expiry and CVV2.
  const r = await vault.request<{ cards: { cardId: string }[] }>({ method: 'POST', path: '/v1/cards', body: { program: PROGRAM, count: 100 } })
  const known: { pan: string; expiry: string; cvv2: string }[] = []
  for (const c of r.body.cards) {
    const s = await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${c.cardId}/sessions`, body: {} })
    const d = await vault.request<{ pan: string; expiryMonth: number; expiryYear: number; cvv2: string }>({ method: 'POST', path: '/v1/sessions/reveal', body: { token: s.body.token } })
    known.push({ pan: d.body.pan, expiry: `${String(d.body.expiryYear % 100).padStart(2, '0')}${String(d.body.expiryMonth).padStart(2, '0')}`, cvv2: d.body.cvv2 })
  }
  let i = 0
  const verify = async () => {
    const k = known[i++ % known.length]!
    const res = await vault.request<{ results: { cvv2: string } }>({ method: 'POST', path: '/v1/verify', body: { pan: k.pan, expiry: k.expiry, cvv2: k.cvv2 } })
    if (res.body.results.cvv2 !== 'match') throw new Error('cvv2 mismatch')
  }
  await run('warmup', 16, 1, verify)
  const cvvCalls0 = await keyvaultCvvCalls(platform.databases.keyvault)
  const cvvFigure = await run(`verify_pan_to_card_id_plus_cvv2${CVV_BATCH_MAX > 1 ? '' : '_unbatched'}`, 64, 1, verify)
  const cvvCalls1 = await keyvaultCvvCalls(platform.databases.keyvault)
  // From the key service's audit log: verify calls and CVV items it answered during the figure.
  const calls = cvvCalls1.calls - cvvCalls0.calls
  cvvFigure.keyServiceCvvCalls = { calls, items: cvvCalls1.items - cvvCalls0.items, itemsPerCall: calls ? Math.round(((cvvCalls1.items - cvvCalls0.items) / calls) * 10) / 10 : 0 }
  console.log(JSON.stringify(cvvFigure.keyServiceCvvCalls))
  figures.push(cvvFigure)
  // The same without CVV2: shows the vault's own part (HMAC lookup + record decrypt) apart from the key service call.
  const lookupOnly = async () => {
    const k = known[i++ % known.length]!
    const res = await vault.request<{ results: { expiry: string } }>({ method: 'POST', path: '/v1/verify', body: { pan: k.pan, expiry: k.expiry } })
    if (res.body.results.expiry !== 'ok') throw new Error('expiry')
  }
  figures.push(await run('verify_pan_to_card_id_expiry_only_no_key_service_call', 64, 1, lookupOnly))
  if (!VERIFY_ONLY) {
    const out = {
      measuredAt: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage1m: { atStart: loadStart, atEnd: loadavg()[0] } },
      note: 'All processes (bench client, keyvault, card-vault, processor, proxy-internal, PostgreSQL) share this machine; a load average above the core count means other work was competing for the CPUs during the run, and wall-clock figures are then lower bounds.',
      howMeasured:
        'Closed loops (concurrency = requests in flight) from this process over keep-alive connections (service-kit client, undici, JWT-SVID auth); 10 s per figure after warm-up. cpuUsPerOp: utime+stime per operation of each service process (/proc/<pid>/stat, found by its listening port), of the PostgreSQL backends connected to the services\' databases (pg_stat_activity; postgres_backends in all, postgres_<service> per service database), of this client (process.cpuUsage), and of every process on the machine (/proc/stat, other work included). loadAverage1m: before and after the figure.',
      targets: { issuePerSecond: 300, verifyPerSecond: 3000 },
      cardVaultCvvBatchMax: CVV_BATCH_MAX,
      figures,
    }
    // Keep earlier runs: on a shared machine one run says little, several say how much the load moved it.
    const file = new URL('./results.json', import.meta.url)
    const previous = (await readFile(file, 'utf8').then((t) => JSON.parse(t) as unknown).catch(() => ({}))) as {
      latest?: unknown
      earlier?: unknown[]
      figures?: unknown
    }
    // (A file from before this layout is one run.)
    const earlier = (previous.figures ? [previous] : [previous.latest, ...(previous.earlier ?? [])]).filter(Boolean).slice(0, 9)
    await writeFile(file, `${JSON.stringify({ latest: out, earlier }, null, 2)}\n`)
    console.log('written cde/card-vault/bench/results.json')
  }
} finally {
  await Promise.all(clients.map((c) => c.close()))
  await platform.stop()
}
