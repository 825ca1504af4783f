import { summarise, type RunResult } from './load.js'

/** One timed request of a soak: when it was due (epoch ms), its latency if answered, its failure if any. */
export interface SoakRecord {
  dueAt: number
  latencyMs?: number
  failure?: string
}

/** What the machine and the processes looked like at the end of a window (see soak.bench.ts). */
export interface SoakSample {
  /** Resident memory of each service process, MiB. */
  rssMiB: Record<string, number>
  /** Redis: keys in the database and memory in use, MiB. */
  redis: { keys: number; usedMiB: number }
  /** CPU of the platform's processes (services, PostgreSQL, Redis) over the window per answered authorisation, µs. */
  cpuUsPerAuthorisation?: number
  /** The longest event-loop delay of each service in the window, ms (a stall inside a process, not a wait on others). */
  eventLoopLagMaxMs?: Record<string, number>
  /** The machine's two cores over the window (/proc/stat), percent of their time: busy, waiting on I/O, taken by the host. */
  machine?: { busyPct: number; iowaitPct: number; stealPct: number }
}

/** One window of a soak: what was due in it and how it was answered. */
export interface SoakWindow {
  /** Seconds from the first timed request to the window's start. */
  fromS: number
  sent: number
  answered: number
  errors: number
  errorsByKind: Record<string, number>
  /** Answered per second of the window (a short last window counts its own length). */
  throughputPerS: number
  latencyMs: RunResult['latencyMs']
  sample?: SoakSample
}

/**
 * Cut a soak's records into windows of `windowS` seconds by when each request was due, from `startedAt`
 * (epoch ms; the first timed request's due time) for `durationS` seconds. A record due outside the run is a
 * caller's mistake and throws, so no request is silently dropped from the windows.
 */
export function soakWindows(records: SoakRecord[], startedAt: number, durationS: number, windowS: number): SoakWindow[] {
  if (!(windowS > 0) || !(durationS > 0)) throw new RangeError(`windowS and durationS must be positive (got ${windowS}, ${durationS})`)
  const count = Math.ceil(durationS / windowS)
  const buckets = Array.from({ length: count }, () => ({ latencies: [] as number[], sent: 0, failures: {} as Record<string, number> }))
  for (const r of records) {
    const at = (r.dueAt - startedAt) / 1000
    const i = Math.floor(at / windowS)
    if (at < 0 || i >= count) throw new RangeError(`a record due at ${at.toFixed(3)} s is outside the run of ${durationS} s`)
    const b = buckets[i]!
    b.sent++
    if (r.latencyMs !== undefined) b.latencies.push(r.latencyMs)
    if (r.failure !== undefined) b.failures[r.failure] = (b.failures[r.failure] ?? 0) + 1
  }
  return buckets.map((b, i) => {
    const fromS = i * windowS
    const lengthS = Math.min(windowS, durationS - fromS)
    return {
      fromS,
      sent: b.sent,
      answered: b.latencies.length,
      errors: Object.values(b.failures).reduce((a, n) => a + n, 0),
      errorsByKind: b.failures,
      throughputPerS: Math.round((b.latencies.length / lengthS) * 10) / 10,
      latencyMs: summarise(b.latencies),
    }
  })
}

/**
 * The soak's verdict over its windows: the worst window and how memory moved from the first to the last.
 * `settleErrors`: failures in the untimed seconds before the first window (fixedRate's settle); they are in no
 * window but still count against `sustained`, as in bench:auth.
 */
export function soakVerdict(windows: SoakWindow[], rate: number, p99TargetMs: number, settleErrors = 0) {
  const worst = <K extends 'p99' | 'p999'>(k: K): number => Math.max(0, ...windows.map((w) => w.latencyMs[k]))
  const first = windows.find((w) => w.sample)?.sample
  const last = windows.findLast((w) => w.sample)?.sample
  const rssGrowthMiB = first && last
    ? Object.fromEntries(Object.keys(last.rssMiB).map((s) => [s, Math.round(((last.rssMiB[s] ?? 0) - (first.rssMiB[s] ?? 0)) * 10) / 10]))
    : {}
  // Resident memory moves with every collection: the highest reading beside the growth shows the range.
  const sampled = windows.flatMap((w) => (w.sample ? [w.sample] : []))
  const rssMaxMiB = Object.fromEntries(Object.keys(last?.rssMiB ?? {}).map((s) => [s, Math.max(...sampled.map((x) => x.rssMiB[s] ?? 0))]))
  const errors = windows.reduce((a, w) => a + w.errors, 0) + settleErrors
  const unanswered = windows.reduce((a, w) => a + w.sent - w.answered, 0)
  // Every window carried the rate (answered within 1 % of it) with no error: the rate was sustained.
  const sustained = windows.length > 0 && errors === 0 && unanswered === 0 && windows.every((w) => w.throughputPerS >= rate * 0.99)
  return {
    ratePerS: rate,
    windows: windows.length,
    errors,
    settleErrors,
    unanswered,
    lowestWindowThroughputPerS: Math.min(...windows.map((w) => w.throughputPerS)),
    worstWindowP99Ms: worst('p99'),
    worstWindowP999Ms: worst('p999'),
    windowsOverP99Target: windows.filter((w) => w.latencyMs.p99 > p99TargetMs).length,
    rssGrowthMiB,
    rssMaxMiB,
    redisAtEnd: last?.redis,
    sustained,
  }
}
