// `pnpm bench:auth:cpu`: where the CPU of one authorisation goes. Starts the same topology as bench:auth,
// runs a closed loop, and reads the CPU time (user + system, /proc/<pid>/stat) of every service process,
// the PostgreSQL backends, Redis and the load generator itself over the run. Writes tools/load/cpu-split.json.
// With BENCH_CPU_PROF=1 each service also writes a V8 CPU profile (--cpu-prof) into the output directory.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StageTraceEntry } from '@cardplane/processor'
import { processCpuUs, testProgram } from '@cardplane/tool-leak-scan/platform'
import { issueCards, VisaLinkClient, type SimProgram } from '@cardplane/tool-sim'
import { calibrate } from './calibrate.js'
import { closedLoop, fixedRate, type LoadTarget } from './load.js'
import { nodeArgsFromBench, PATH_SERVICES, platformCpuReaders, serviceEnvFromBench, startAuthPlatform } from './platform.js'
import { schemeSideKey, stageBreakdown, type SchemeSideRecord, type StageBreakdown } from './stages.js'

const RUN_S = Number(process.env.BENCH_RUN_S ?? 15)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64)
const CARDS = Number(process.env.BENCH_CARDS ?? 64)
/** Closed loop before the measurement, so V8 has optimised the hot code (see tools/load/README.md). */
const WARM_S = Number(process.env.BENCH_WARM_S ?? 30)
const PROF_DIR = process.env.BENCH_CPU_PROF === '1' ? `/tmp/cardplane-cpu-prof-${process.pid}` : undefined
/** BENCH_FLOOR=1: the processor link is `mode: passthrough` (the floor of pnpm bench:auth: same hops, no work). */
const FLOOR = process.env.BENCH_FLOOR === '1'
/**
 * BENCH_RATE=500: measure at that fixed rate instead of the closed loop. Batches are smaller at a moderate
 * rate than in a saturated loop, so the cost per authorisation is higher there: this is the cost the
 * latency target runs at. Writes tools/load/cpu-split-rate.json.
 */
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined
/**
 * BENCH_STAGE_TRACE=1 (with BENCH_RATE): the processor writes its stage trace and the report gets `stages`,
 * where the time of all, the slowest 10 % and the slowest 1 % of the timed authorisations went (stages.ts).
 */
const STAGE_TRACE = process.env.BENCH_STAGE_TRACE === '1' && RATE !== undefined

const log = (m: string): void => console.error(`[bench:auth:cpu] ${m}`)

async function main(): Promise<void> {
  // The machine's speed before the platform starts (calibrate.ts): compare figures across runs with it.
  const calibration = await calibrate()
  log(`calibration ${JSON.stringify(calibration)}`)
  if (PROF_DIR) mkdirSync(PROF_DIR, { recursive: true })
  const extraArgs = nodeArgsFromBench()
  const nodeArgs = Object.fromEntries(
    PATH_SERVICES.map((s) => [s, [...extraArgs, ...(PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}/${s}`] : [])]]),
  )
  const traceDir = STAGE_TRACE ? mkdtempSync(join(tmpdir(), 'cardplane-stages-')) : undefined
  const traceFile = traceDir ? join(traceDir, 'processor-stages.jsonl') : undefined
  const path = await startAuthPlatform({
    prefix: 'bench_cpu',
    log,
    links: [{ name: 'visa', ...(FLOOR ? { mode: 'passthrough' as const } : {}) }],
    env: serviceEnvFromBench(),
    nodeArgs,
    ...(traceFile ? { processorEnv: { PROCESSOR_STAGE_TRACE_FILE: traceFile } } : {}),
  })
  const { platform, setup } = path
  const program: SimProgram = testProgram('cpu-visa-eur', '45399141', '3000000')
  try {
    const cards = await issueCards(setup, { program, count: CARDS, fund: 1_000_000_000, accountPrefix: `acc_cpu_${process.pid}` })
    const links = await Promise.all(Array.from({ length: 4 }, (_, i) => VisaLinkClient.connect({ port: path.ports.visa!, timeoutMs: 10_000, visaStationId: String(300 + i).padStart(6, '0') })))
    // The floor echoes the request with the response MTI: its DE 39 is absent.
    const target: LoadTarget = { links, cards, expect: FLOOR ? 'undefined' : '00', amountMinor: 100 }
    log(`warm-up ${WARM_S} s`)
    await closedLoop('warm-up', target, 16, WARM_S)
    // How to read each process group's CPU so far (µs), in report order.
    const readers = { ...platformCpuReaders(platform), 'load-generator': () => processCpuUs(process.pid) }
    const snapshot = (): Record<string, number> => Object.fromEntries(Object.entries(readers).map(([k, read]) => [k, read()]))
    let before = snapshot()
    const load0 = loadavg()
    log(RATE ? `fixed rate ${RATE}/s, ${RUN_S} s` : `closed loop ${CONCURRENCY} in flight, ${RUN_S} s`)
    // At a fixed rate the CPU accounting starts with the first timed request, after the settle.
    const schemeSide: SchemeSideRecord[] = []
    const run = RATE
      ? await fixedRate('measured', target, RATE, RUN_S, {
          onMeasuring: () => (before = snapshot()),
          ...(STAGE_TRACE ? { onAnswered: (fields, sentAt, latencyMs) => schemeSide.push({ key: schemeSideKey(fields), sentAt, latencyMs }) } : {}),
        })
      : await closedLoop('measured', target, CONCURRENCY, RUN_S)
    const after = snapshot()
    const perAuthUs: Record<string, number> = {}
    let total = 0
    for (const k of Object.keys(readers)) {
      const us = (after[k]! - before[k]!) / Math.max(1, run.answered)
      perAuthUs[k] = Math.round(us)
      total += us
    }
    for (const l of links) await l.close()
    let stages: StageBreakdown | undefined
    if (traceFile) {
      // The processor appends once a second: stopping it writes the rest (the finally's stop waits for this one).
      await platform.stop()
      const lines = existsSync(traceFile) ? readFileSync(traceFile, 'utf8').split('\n').filter((l) => l !== '') : []
      stages = stageBreakdown(schemeSide, lines.map((l) => JSON.parse(l) as StageTraceEntry))
    }
    const report = {
      benchmark: `${FLOOR ? 'CPU per passed-through frame by process, floor (BENCH_FLOOR=1 pnpm bench:auth:cpu)' : 'CPU per authorisation by process (pnpm bench:auth:cpu)'}${RATE ? `, at a fixed ${RATE}/s (BENCH_RATE)` : ''}`,
      measuredAt: new Date().toISOString(),
      loadavgBefore: load0,
      loadavgAfter: loadavg(),
      calibration,
      run,
      cpuUsPerAuthorisation: { ...perAuthUs, total: Math.round(total) },
      capacityPerSOnTwoCores: Math.round(2e6 / total),
      ...(stages ? { stages } : {}),
      ...(PROF_DIR ? { cpuProfiles: PROF_DIR } : {}),
    }
    const file = RATE ? '../cpu-split-rate.json' : FLOOR ? '../cpu-split-floor.json' : '../cpu-split.json'
    writeFileSync(new URL(file, import.meta.url), `${JSON.stringify(report, null, 2)}\n`)
    console.log(JSON.stringify(report, null, 2))
  } finally {
    await path.close()
    if (traceDir) rmSync(traceDir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
