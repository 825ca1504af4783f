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
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { startTestPlatform, TEST_KEYS } from '@cardplane/tool-leak-scan/platform'

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000)
const PROGRAM = {
  id: 'bench-debit',
  bin: '45399140',
  panLength: 16,
  accountStart: '0000000',
  rangeSize: '10000000',
  validityMonths: 36,
  serviceCode: '201',
  pinTryLimit: 3,
  cvkName: TEST_KEYS.cvk,
  pvkName: TEST_KEYS.pvk,
  pvki: 1,
}

interface Figure {
  name: string
  concurrency: number
  durationS: number
  operations: number
  perSecond: number
  errors: number
  p50Ms: number
  p99Ms: number
}

async function run(name: string, concurrency: number, opsPerCall: number, call: () => Promise<void>): Promise<Figure> {
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
  lat.sort((a, b) => a - b)
  const q = (p: number) => Math.round((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0) * 10) / 10
  const f = { name, concurrency, durationS: Math.round(secs * 10) / 10, operations: ops, perSecond: Math.round(ops / secs), errors, p50Ms: q(0.5), p99Ms: q(0.99) }
  console.log(JSON.stringify(f))
  return f
}

const loadStart = loadavg()[0]
const platform = await startTestPlatform({
  services: ['keyvault', 'card-vault', 'processor', 'proxy-internal'],
  prefix: 'bench_cv',
  env: {
    'card-vault': { LOG_LEVEL: 'warn', CARD_VAULT_DB_POOL_SIZE: '30' },
    processor: { LOG_LEVEL: 'warn', PROCESSOR_REDIS_PREFIX: `bench-${process.pid}:` },
    'proxy-internal': { LOG_LEVEL: 'warn' },
    keyvault: { LOG_LEVEL: 'warn', KEYVAULT_DB_POOL_SIZE: '20' },
  },
})
const clients: ServiceClient[] = []
try {
  const viaProxy = createServiceClient({ callee: 'proxy-internal', zoneMap: platform.zoneMap, svids: platform.workload('cards'), baseUrl: platform.urls['proxy-internal']!, timeoutMs: 30_000, connections: 64 })
  const vault = createServiceClient({ callee: 'card-vault', zoneMap: platform.zoneMap, svids: platform.workload('processor'), baseUrl: platform.urls['card-vault']!, timeoutMs: 30_000, connections: 64 })
  clients.push(viaProxy, vault)
  const issue = (count: number) => async () => {
    await viaProxy.request({ method: 'POST', path: '/v1/cde/cards', body: { program: PROGRAM, count } })
  }
  // Warm up (program registration, data keys, connections, JIT).
  await run('warmup', 8, 1, issue(1)).catch(() => undefined)
  const figures: Figure[] = []
  figures.push(await run('issue_via_proxy_internal_1_per_request', 32, 1, issue(1)))
  figures.push(await run('issue_via_proxy_internal_10_per_request', 16, 10, issue(10)))

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
  figures.push(await run('verify_pan_to_card_id_plus_cvv2', 64, 1, verify))
  // The same without CVV2: shows the vault's own part (HMAC lookup + record decrypt) apart from the key service call.
  const lookupOnly = async () => {
    const k = known[i++ % known.length]!
    const res = await vault.request<{ results: { expiry: string } }>({ method: 'POST', path: '/v1/verify', body: { pan: k.pan, expiry: k.expiry } })
    if (res.body.results.expiry !== 'ok') throw new Error('expiry')
  }
  figures.push(await run('verify_pan_to_card_id_expiry_only_no_key_service_call', 64, 1, lookupOnly))
  const out = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage1m: { atStart: loadStart, atEnd: loadavg()[0] } },
    note: 'All processes (bench client, keyvault, card-vault, processor, proxy-internal, PostgreSQL) share this machine; a load average above the core count means other work was competing for the CPUs during the run.',
    targets: { issuePerSecond: 300, verifyPerSecond: 3000 },
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
} finally {
  await Promise.all(clients.map((c) => c.close()))
  await platform.stop()
}
