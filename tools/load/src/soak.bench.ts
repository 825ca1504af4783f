// `pnpm bench:auth:soak`: is the rate sustained? One fixed rate (BENCH_SOAK_RATE, default 1,000/s) through the
// whole authorisation path for BENCH_SOAK_S seconds (default 300), cut into windows of BENCH_SOAK_WINDOW_S
// (default 30): each window's throughput, latency and errors, and at its end every service's resident memory,
// the CPU the window cost per authorisation and Redis's keys and memory. bench:auth's runs are 15 s long; this
// shows whether the figures hold, and whether memory or cost creeps, over minutes. Writes
// tools/load/soak-<rate>.json (soak-1000.json by default).
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { Redis } from 'ioredis'
import { testProgram } from '@cardplane/tool-leak-scan/platform'
import { issueCards, VisaLinkClient } from '@cardplane/tool-sim'
import { calibrate } from './calibrate.js'
import { closedLoop, fixedRate, type LoadTarget } from './load.js'
import { nodeArgsFromBench, PATH_SERVICES, platformCpuReaders, serviceEnvFromBench, servicePids, startAuthPlatform } from './platform.js'
import { readServiceMetrics } from './server-times.js'
import { soakVerdict, soakWindows, type SoakRecord, type SoakSample } from './soak.js'

const RATE = Number(process.env.BENCH_SOAK_RATE ?? 1000)
const DURATION_S = Number(process.env.BENCH_SOAK_S ?? 300)
const WINDOW_S = Number(process.env.BENCH_SOAK_WINDOW_S ?? 30)
const WARM_S = Number(process.env.BENCH_WARM_S ?? 30)
const CARDS = Number(process.env.BENCH_CARDS ?? 64)
const P99_TARGET_MS = 50

const log = (m: string): void => console.error(`[bench:auth:soak] ${m}`)

/** The machine's CPU time so far (/proc/stat, all CPUs, clock ticks): total, busy, iowait, steal. */
function machineTicks(): { total: number; busy: number; iowait: number; steal: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[]
  const busy = user! + nice! + system! + irq! + softirq!
  return { total: busy + idle! + iowait! + steal!, busy, iowait: iowait!, steal: steal! }
}

/** Resident set size of a process, MiB (VmRSS in /proc/<pid>/status). */
function rssMiB(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Math.round((Number(kb ?? 0) / 1024) * 10) / 10
}

async function main(): Promise<void> {
  const calibrationBefore = await calibrate()
  log(`calibration ${JSON.stringify(calibrationBefore)}`)
  const nodeArgs = nodeArgsFromBench()
  const path = await startAuthPlatform({
    prefix: 'bench_soak',
    links: [{ name: 'visa' }],
    log,
    env: serviceEnvFromBench(),
    ...(nodeArgs.length ? { nodeArgs: Object.fromEntries(PATH_SERVICES.map((s) => [s, nodeArgs])) } : {}),
  })
  const { platform } = path
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    const cards = await issueCards(path.setup, { program: testProgram('soak-visa-eur', '45399142', '3000000'), count: CARDS, fund: 1_000_000_000, accountPrefix: `acc_soak_${process.pid}` })
    const links = await Promise.all(Array.from({ length: 4 }, (_, i) => VisaLinkClient.connect({ port: path.ports.visa!, timeoutMs: 10_000, visaStationId: String(400 + i).padStart(6, '0') })))
    const target: LoadTarget = { links, cards, expect: '00', amountMinor: 100 }
    log(`warm-up ${WARM_S} s`)
    await closedLoop('warm-up', target, 16, WARM_S)

    const pids = servicePids(platform)
    // CPU of the whole platform (services, the PostgreSQL cluster, Redis), not the load generator.
    const readers = Object.values(platformCpuReaders(platform))
    const platformCpuUs = (): number => readers.reduce((a, read) => a + read(), 0)
    const samples: (SoakSample & { cpuUs: number; ticks: ReturnType<typeof machineTicks> })[] = []
    const sample = async (): Promise<void> => {
      const cpuUs = platformCpuUs()
      const ticks = machineTicks()
      // Each scrape resets the services' event-loop monitors, so this reading covers the window just ended.
      const { eventLoopLag } = await readServiceMetrics(platform.urls)
      const keys = await redis.dbsize()
      const used = Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? 0)
      samples.push({
        cpuUs,
        ticks,
        eventLoopLagMaxMs: Object.fromEntries(Object.entries(eventLoopLag).map(([svc, l]) => [svc, l.maxMs])),
        rssMiB: Object.fromEntries(Object.entries(pids).map(([s, pid]) => [s, rssMiB(pid)])),
        redis: { keys, usedMiB: Math.round((used / 2 ** 20) * 10) / 10 },
      })
    }

    const records: SoakRecord[] = []
    let timer: NodeJS.Timeout | undefined
    let pending: Promise<void> = Promise.resolve()
    const sampleNow = (): void => {
      pending = pending.then(sample)
    }
    log(`fixed rate ${RATE}/s for ${DURATION_S} s, windows of ${WINDOW_S} s`)
    const load0 = loadavg()
    const run = await fixedRate('soak', target, RATE, DURATION_S, {
      onMeasuring: () => {
        // A reading as the first timed request goes out, then one at the end of each window.
        sampleNow()
        timer = setInterval(sampleNow, WINDOW_S * 1000)
      },
      onAnswered: (_fields, dueAt, latencyMs) => records.push({ dueAt, latencyMs }),
      onFailed: (dueAt, failure) => records.push({ dueAt, failure }),
    })
    clearInterval(timer)
    await pending
    // The last window's end: the interval may have fired just before the last answers came, or not yet.
    const windowCount = Math.ceil(DURATION_S / WINDOW_S)
    if (samples.length < windowCount + 1) await sample()
    const loadAfter = loadavg()
    for (const l of links) await l.close()

    // A wrong DE 39 is both answered and failed: merge its two records into one.
    const byDue = new Map<number, SoakRecord>()
    for (const r of records) byDue.set(r.dueAt, { ...byDue.get(r.dueAt), ...r })
    const merged = [...byDue.values()]
    const startedAt = merged.reduce((a, r) => Math.min(a, r.dueAt), Infinity)
    const windows = soakWindows(merged, startedAt, DURATION_S, WINDOW_S).map((w, i) => {
      const [s0, s1] = [samples[i], samples[i + 1]]
      if (!s0 || !s1) return w
      const dt = Math.max(1, s1.ticks.total - s0.ticks.total)
      const pct = (k: 'busy' | 'iowait' | 'steal'): number => Math.round(((s1.ticks[k] - s0.ticks[k]) / dt) * 1000) / 10
      return {
        ...w,
        sample: {
          rssMiB: s1.rssMiB,
          redis: s1.redis,
          cpuUsPerAuthorisation: Math.round((s1.cpuUs - s0.cpuUs) / Math.max(1, w.answered)),
          ...(s1.eventLoopLagMaxMs ? { eventLoopLagMaxMs: s1.eventLoopLagMaxMs } : {}),
          machine: { busyPct: pct('busy'), iowaitPct: pct('iowait'), stealPct: pct('steal') },
        },
      }
    })
    const report = {
      benchmark: `authorisations at a fixed ${RATE}/s for ${DURATION_S} s (pnpm bench:auth:soak)`,
      measuredAt: new Date().toISOString(),
      machine: { loadavgBefore: load0, loadavgAfter: loadAfter, calibrationBefore, calibrationAfter: await calibrate() },
      parameters: { rate: RATE, durationS: DURATION_S, windowS: WINDOW_S, warmSeconds: WARM_S, cards: CARDS, connections: 4, amountMinor: 100, kind: 'e-commerce with CVV2' },
      verdict: soakVerdict(windows, RATE, P99_TARGET_MS, run.settle?.errors ?? 0),
      run,
      windows,
    }
    writeFileSync(new URL(`../soak-${RATE}.json`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`)
    log(`wrote tools/load/soak-${RATE}.json`)
    console.log(JSON.stringify(report.verdict))
  } finally {
    redis.disconnect()
    await path.close()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
