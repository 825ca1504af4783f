import t from 'tap'
import { soakVerdict, soakWindows, type SoakRecord, type SoakWindow } from '../src/soak.js'

const T0 = 1_700_000_000_000

/** `perS` requests a second for `seconds`, each answered in `latency(i)` ms unless `fail(i)` names a failure. */
function records(perS: number, seconds: number, latency: (i: number) => number, fail: (i: number) => string | undefined = () => undefined): SoakRecord[] {
  return Array.from({ length: perS * seconds }, (_, i) => {
    const failure = fail(i)
    const r: SoakRecord = { dueAt: T0 + (i * 1000) / perS }
    if (failure !== 'timeout') r.latencyMs = latency(i)
    if (failure !== undefined) r.failure = failure
    return r
  })
}

void t.test('windows by due time: counts, throughput, percentiles and failures of each', async (t) => {
  // 100/s for 25 s: the first 10 s answered in 5 ms, the next 10 s in 20 ms, the last 5 s in 40 ms; two failures.
  const rs = records(100, 25, (i) => (i < 1000 ? 5 : i < 2000 ? 20 : 40), (i) => (i === 1500 ? 'de39_91' : i === 2400 ? 'timeout' : undefined))
  const w = soakWindows(rs, T0, 25, 10)
  t.equal(w.length, 3)
  t.same(w.map((x) => x.fromS), [0, 10, 20])
  t.same(w.map((x) => x.sent), [1000, 1000, 500])
  t.same(w.map((x) => x.answered), [1000, 1000, 499], 'the timeout is sent but not answered')
  t.same(w.map((x) => x.latencyMs.p99), [5, 20, 40])
  t.same(w.map((x) => x.errors), [0, 1, 1])
  t.same(w[1]!.errorsByKind, { de39_91: 1 })
  t.same(w[2]!.errorsByKind, { timeout: 1 })
  t.same(w.map((x) => x.throughputPerS), [100, 100, 99.8], 'the short last window counts its own 5 s')
})

void t.test('a record due outside the run is refused, not dropped', async (t) => {
  t.throws(() => soakWindows([{ dueAt: T0 + 30_000, latencyMs: 1 }], T0, 30, 10), RangeError)
  t.throws(() => soakWindows([{ dueAt: T0 - 1, latencyMs: 1 }], T0, 30, 10), RangeError)
  t.throws(() => soakWindows([], T0, 30, 0), RangeError)
})

const sample = (rss: number): SoakWindow['sample'] => ({ rssMiB: { processor: rss, ledger: 90 }, redis: { keys: 1, usedMiB: 1 } })

void t.test('verdict: sustained only when every window carried the rate without an error', async (t) => {
  const clean = soakWindows(records(100, 20, () => 10), T0, 20, 10).map((w, i) => ({ ...w, sample: sample(100 + i * 5) }))
  const v = soakVerdict(clean, 100, 50)
  t.equal(v.sustained, true)
  t.equal(v.errors, 0)
  t.equal(v.worstWindowP99Ms, 10)
  t.equal(v.windowsOverP99Target, 0)
  t.same(v.rssGrowthMiB, { processor: 5, ledger: 0 }, 'memory from the first sampled window to the last')
  t.same(v.rssMaxMiB, { processor: 105, ledger: 90 })
  t.same(v.redisAtEnd, { keys: 1, usedMiB: 1 })

  const slowTail = soakWindows(records(100, 20, (i) => (i === 1999 ? 80 : i >= 1980 ? 60 : 10)), T0, 20, 10)
  const s = soakVerdict(slowTail, 100, 50)
  t.equal(s.windowsOverP99Target, 1)
  t.equal(s.worstWindowP99Ms, 60)
  t.equal(s.worstWindowP999Ms, 80)
  t.equal(s.sustained, true, 'slow is not unsustained: latency has its own figures')

  const failed = soakVerdict(soakWindows(records(100, 20, () => 10, (i) => (i === 7 ? 'de39_91' : undefined)), T0, 20, 10), 100, 50)
  t.equal(failed.errors, 1)
  t.equal(failed.sustained, false)

  const short = soakVerdict(soakWindows(records(100, 20, () => 10).filter((_, i) => i % 10 !== 0), T0, 20, 10), 100, 50)
  t.equal(short.lowestWindowThroughputPerS, 90)
  t.equal(short.sustained, false, 'a window that carried 90 % of the rate')

  t.equal(soakVerdict([], 100, 50).sustained, false, 'no window, no claim')

  const settled = soakVerdict(soakWindows(records(100, 20, () => 10), T0, 20, 10), 100, 50, 2)
  t.equal(settled.errors, 2, "the settle's failures are in no window but still count")
  t.equal(settled.settleErrors, 2)
  t.equal(settled.sustained, false)
})
