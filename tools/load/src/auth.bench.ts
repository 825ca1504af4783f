// `pnpm bench:auth`: load over TCP against the whole authorisation path, every service its own process,
// real PostgreSQL and Redis; then the same topology with the processor answering without work (the floor).
// Figures go to tools/load/results.json. Not a test: it measures and reports, whatever the numbers are.
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { testProgram } from '@cardplane/tool-leak-scan/platform'
import { issueCards, VisaLinkClient, type SimProgram } from '@cardplane/tool-sim'
import { closedLoop, fixedRate, type LoadTarget, type RunResult } from './load.js'
import { calibrate } from './calibrate.js'
import { inProcessPipeline } from './in-process.js'
import { meanServerTimes, readServiceMetrics, type EventLoopLag } from './server-times.js'
import { serviceEnvFromBench, startAuthPlatform } from './platform.js'

const SHORT = process.env.BENCH_SHORT === '1'
const RUN_S = Number(process.env.BENCH_RUN_S ?? (SHORT ? 5 : 15))
// Long enough for V8 to finish optimising the hot code of seven processes: after 5 s each service was still
// compiling ~20 functions a second with TurboFan (--trace-opt), ~15 % of the CPU measured (tools/load/README.md).
const WARM_S = Number(process.env.BENCH_WARM_S ?? (SHORT ? 3 : 30))
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4)
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '8,64').split(',').map(Number)
const CARDS = Number(process.env.BENCH_CARDS ?? 64)
const RATES = (process.env.BENCH_RATES ?? '50,500,1000').split(',').map(Number)

const PROGRAM: SimProgram = testProgram('bench-visa-eur', '45399140', '3000000')


const log = (m: string): void => console.error(`[bench:auth] ${m}`)

async function main(): Promise<void> {
  const loadBefore = loadavg()
  log('machine calibration (CPU workload, loopback round trips)')
  const calibrationBefore = await calibrate()
  log(JSON.stringify(calibrationBefore))
  log(`processor pipeline in process, ${RUN_S} s`)
  const inProcess = await inProcessPipeline(RUN_S)
  log(JSON.stringify(inProcess))
  log('starting platform (keyvault, card-vault, ledger, authorizations, proxy-internal, processor, proxy-public)')
  const path = await startAuthPlatform({
    prefix: 'bench_auth',
    log,
    links: [{ name: 'visa' }, { name: 'floor', mode: 'passthrough' }],
    env: serviceEnvFromBench(),
  })
  const { platform, setup } = path
  const results: (RunResult & { serverTimes?: Record<string, { count: number; meanMs: number }>; eventLoopLag?: Record<string, EventLoopLag> })[] = []
  const participants: Record<string, { count: number; meanMs: number }> = {}
  try {
    log(`issuing and funding ${CARDS} cards`)
    const cards = await issueCards(setup, { program: PROGRAM, count: CARDS, fund: 1_000_000_000, accountPrefix: `acc_bench_${process.pid}` })
    const connect = async (port: number, acquirer: number) =>
      Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => VisaLinkClient.connect({ port, timeoutMs: 10_000, visaStationId: String(acquirer + i).padStart(6, '0') })))
    const visaLinks = await connect(path.ports.visa!, 100)
    const floorLinks = await connect(path.ports.floor!, 200)
    const full: LoadTarget = { links: visaLinks, cards, expect: '00', amountMinor: 100 }
    // The floor echoes the request with the response MTI: its DE 39 is absent.
    const floor: LoadTarget = { links: floorLinks, cards, expect: 'undefined', amountMinor: 100 }
    // BENCH_FLOOR=0: the full path only (quicker, to try a setting).
    const phases = [['floor', floor], ['authorisation', full]] as const
    for (const [label, target] of phases.filter(([l]) => process.env.BENCH_FLOOR !== '0' || l !== 'floor')) {
      log(`${label}: warm-up ${WARM_S} s`)
      await closedLoop(`${label} warm-up`, target, 16, WARM_S)
      // Each run with the mean answering time of every service route it used and each service's event-loop
      // delay over the run (see server-times.ts).
      const measured = async (run: () => Promise<RunResult>): Promise<void> => {
        const before = await readServiceMetrics(platform.urls)
        const r = await run()
        const after = await readServiceMetrics(platform.urls)
        const serverTimes = meanServerTimes(before.totals, after.totals, Math.ceil(r.answered / 100))
        results.push({ ...r, serverTimes, eventLoopLag: after.eventLoopLag })
        log(JSON.stringify(results.at(-1)))
      }
      for (const c of CONCURRENCY) {
        log(`${label}: closed loop, ${c} in flight, ${RUN_S} s`)
        await measured(() => closedLoop(`${label} closed-loop ${c}`, target, c, RUN_S))
      }
      for (const rate of RATES) {
        log(`${label}: fixed rate ${rate}/s, ${RUN_S} s`)
        await measured(() => fixedRate(`${label} fixed ${rate}/s`, target, rate, RUN_S))
      }
    }
    for (const l of [...visaLinks, ...floorLinks]) await l.close()
    // Where the time went inside the processor: mean per participant over every authorisation above.
    const metrics = await (await fetch(`${platform.urls.processor!}/metrics`)).text()
    const sums: Record<string, { sum: number; count: number }> = {}
    for (const m of metrics.matchAll(/^authorization_participant_seconds_(sum|count)\{([^}]*)\} ([0-9.e+-]+)$/gm)) {
      const participant = /participant="([a-z-]+)"/.exec(m[2]!)?.[1]
      if (!participant) continue
      const e = (sums[participant] ??= { sum: 0, count: 0 })
      if (m[1] === 'sum') e.sum = Number(m[3])
      else e.count = Number(m[3])
    }
    for (const [k, v] of Object.entries(sums)) participants[k] = { count: v.count, meanMs: v.count ? Math.round((v.sum / v.count) * 100000) / 100 : 0 }
  } finally {
    await path.close()
  }
  const calibrationAfter = await calibrate()
  log(JSON.stringify(calibrationAfter))
  const byName = (n: string) => results.find((r) => r.name === n)
  const at500 = byName('authorisation fixed 500/s')
  // 50/s sends every 20 ms, longer than proxy-public's 15 ms hold (PUBLIC_FRAME_COALESCE_MS): no frame is held.
  const quiet = results
    .filter((r) => r.name.startsWith('authorisation fixed') && r.target <= 50)
    .reduce<RunResult | undefined>((low, r) => (!low || r.target < low.target ? r : low), undefined)
  // Sustained: the best zero-error run, either a closed loop (its throughput) or a fixed rate that answered
  // every request 00 (its rate: that many authorisations a second, every second of the run). An overloaded
  // run answers 91 by stand-in, so it is not clean.
  const closedRuns = results.filter((r) => r.name.startsWith('authorisation closed-loop'))
  const cleanClosed = closedRuns.filter((r) => r.errors === 0)
  const cleanFixed = results.filter((r) => r.name.startsWith('authorisation fixed') && r.errors === 0 && r.answered === r.sent)
  const clean = [...cleanClosed, ...cleanFixed]
  const sustained = (clean.length ? clean : closedRuns).reduce<RunResult | undefined>((best, r) => (!best || r.throughputPerS > best.throughputPerS ? r : best), undefined)
  const report = {
    benchmark: 'authorisation over TCP (pnpm bench:auth)',
    measuredAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      // Other work on the machine (e.g. parallel test runs) competes for the two cores: read figures with these.
      loadavgBefore: loadBefore,
      loadavgAfter: loadavg(),
      // The machine's speed before the run and after it (calibrate.ts): compare figures across runs with these.
      calibrationBefore,
      calibrationAfter,
    },
    topology:
      'load generator → TCP (VMLH) → proxy-public → processor → card-vault → keyvault; processor → proxy-internal → authorizations → ledger (PostgreSQL) + Redis; every service its own Node process with its own SPIFFE identity, on one 2-core machine together with PostgreSQL, Redis and the load generator',
    floor:
      'same processes and TCP link; the processor answers without decoding, card checks or a decision, after calling card-vault and proxy-internal /v1/probe (two authenticated HTTP hops)',
    parameters: { runSeconds: RUN_S, warmSeconds: WARM_S, connections: CONNECTIONS, concurrency: CONCURRENCY, cards: CARDS, rates: RATES, amountMinor: 100, kind: 'e-commerce with CVV2' },
    targets: { sustainedPerS: 1000, p99AtFiveHundredMs: 50, errors: 0 },
    inProcess,
    processorParticipants: participants,
    verdict: {
      sustainedPerS: sustained?.throughputPerS,
      sustainedRun: sustained?.name,
      meetsThroughput: (sustained?.throughputPerS ?? 0) >= 1000 && (sustained?.errors ?? 1) === 0,
      // Both kinds, so a reader sees which one carried the verdict.
      bestClosedLoopPerS: Math.max(0, ...cleanClosed.map((r) => r.throughputPerS)),
      highestCleanFixedRatePerS: Math.max(0, ...cleanFixed.map((r) => r.target)),
      p99At500Ms: at500?.latencyMs.p99,
      // The lowest fixed rate, if 50/s or less: frames further apart than the edge hold, so none is held and
      // none queues behind another. Its p99 is what the path itself costs on this machine: the part of
      // p99At500Ms that load does not explain.
      quietPath: quiet ? { ratePerS: quiet.target, p50Ms: quiet.latencyMs.p50, p99Ms: quiet.latencyMs.p99, errors: quiet.errors } : undefined,
      meetsLatency: (at500?.latencyMs.p99 ?? Infinity) <= 50 && (at500?.errors ?? 1) === 0,
    },
    results,
  }
  const out = new URL('../results.json', import.meta.url)
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
  log(`wrote ${out.pathname}`)
  console.log(JSON.stringify(report.verdict))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
