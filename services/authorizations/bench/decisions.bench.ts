// Decision throughput of authorizations + ledger (real PostgreSQL, Redis, JWT-SVIDs, HTTP between them).
// Both apps run in this one process (the end-to-end benchmark with one process per service is
// `pnpm bench:auth`). Run: pnpm --filter @cardplane/authorizations bench
// Writes bench/results.json and bench/results.md.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { Pool } from 'undici'
import { startHarness } from '../test/helpers/harness.js'

const CARDS = Number(process.env.BENCH_CARDS ?? 200)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300)
const TOTAL = Number(process.env.BENCH_TOTAL ?? 4000)
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,32').split(',').map(Number)

/** CPU seconds of every PostgreSQL backend (the server does part of each decision's work). */
function postgresCpuSeconds(): number {
  let total = 0
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').startsWith('postgres')) continue
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(f[11]) + Number(f[12])) / 100
    } catch {
      // the process ended meanwhile
    }
  }
  return total
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

const loadStart = loadavg().map((l) => l.toFixed(1))
const h = await startHarness()
try {
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 })
  const pool = new Pool(url, { connections: 64 })
  // The SVID source caches tokens and renews them at half their lifetime (runs outlive one SVID).
  const token = () => h.ids.bearer('proxy-internal', 'authorizations')
  const cards: { cardId: string; accountId: string }[] = []
  for (let i = 0; i < CARDS; i++) cards.push(await h.card({ balance: 1_000_000_000 }))
  let next = 0
  const one = async (): Promise<{ ms: number; outcome: string }> => {
    const card = cards[next++ % cards.length]!
    const body = JSON.stringify(h.request(card.cardId, 100 + (next % 900)))
    const t0 = performance.now()
    const res = await pool.request({
      method: 'POST',
      path: '/v1/decisions',
      headers: { authorization: await token(), 'content-type': 'application/json' },
      body,
    })
    const json = (await res.body.json()) as { outcome?: string; reason?: string }
    const ms = performance.now() - t0
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
    return { ms, outcome: json.reason ? `${json.outcome}:${json.reason}` : (json.outcome ?? 'error') }
  }
  const run = async (n: number, concurrency: number) => {
    const lat: number[] = []
    const outcomes: Record<string, number> = {}
    let started = 0
    const cpu0 = process.cpuUsage()
    const pg0 = postgresCpuSeconds()
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (started < n) {
          started++
          const r = await one()
          lat.push(r.ms)
          outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1
        }
      }),
    )
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const pgCpu = postgresCpuSeconds() - pg0
    lat.sort((a, b) => a - b)
    return {
      concurrency,
      requests: lat.length,
      throughputPerSec: Math.round(lat.length / seconds),
      p50ms: +pct(lat, 50).toFixed(2),
      p99ms: +pct(lat, 99).toFixed(2),
      p999ms: +pct(lat, 99.9).toFixed(2),
      // CPU per decision: this process (authorizations + ledger + the load client) and PostgreSQL.
      nodeCpuUsPerDecision: Math.round((cpu.user + cpu.system) / lat.length),
      postgresCpuUsPerDecision: Math.round((pgCpu * 1e6) / lat.length),
      outcomes,
    }
  }
  await run(WARMUP, 8)
  const results = []
  for (const c of CONCURRENCY) {
    const r = await run(TOTAL, c)
    results.push(r)
    process.stdout.write(`${JSON.stringify(r)}\n`)
  }
  await pool.close()
  const out = {
    bench: 'authorizations decisions (approve path: card lock, checks, Redis velocity, ledger hold over HTTP, decision stored)',
    date: new Date().toISOString(),
    machine: `shared 2-core dev machine (load average at start ${loadStart.join(' / ')}, other helpers' processes running); both services in one Node process; PostgreSQL and Redis local`,
    cards: CARDS,
    results,
  }
  const dir = new URL('./', import.meta.url)
  writeFileSync(new URL('results.json', dir), `${JSON.stringify(out, null, 2)}\n`)
  const md = [
    '# authorizations decision benchmark',
    '',
    `${out.bench}. ${out.machine}. ${out.date}.`,
    '',
    '| concurrency | requests | decisions/s | p50 ms | p99 ms | p99.9 ms | Node CPU µs/decision | PostgreSQL CPU µs/decision | outcomes |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.concurrency} | ${r.requests} | ${r.throughputPerSec} | ${r.p50ms} | ${r.p99ms} | ${r.p999ms} | ${r.nodeCpuUsPerDecision} | ${r.postgresCpuUsPerDecision} | ${JSON.stringify(r.outcomes)} |`,
    ),
    '',
  ].join('\n')
  writeFileSync(new URL('results.md', dir), md)
} finally {
  await h.stop()
}
