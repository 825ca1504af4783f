import t from 'tap'
import { cpuScore, loopbackRtt } from '../src/calibrate.js'

t.test('the CPU reading: a median inside its range, per CPU and per wall-clock second', async (t) => {
  const r = cpuScore({ ops: 300, rounds: 3 })
  t.ok(Number.isFinite(r.opsPerCpuSecond) && r.opsPerCpuSecond > 0, `ops per CPU second: ${r.opsPerCpuSecond}`)
  t.ok(r.opsPerWallSecond > 0)
  const [low, high] = r.opsPerCpuSecondRange
  t.ok(low <= r.opsPerCpuSecond && r.opsPerCpuSecond <= high, `${low} <= ${r.opsPerCpuSecond} <= ${high}`)
  t.match(r.workload, /one thread/)
})

t.test('the loopback reading: round trips to a child process, which is gone afterwards', async (t) => {
  const r = await loopbackRtt({ backToBack: 50, afterIdle: 5, idleMs: 5 })
  t.equal(r.idleMs, 5)
  for (const k of ['backToBackUs', 'afterIdleUs'] as const) {
    t.ok(r[k].p50 > 0 && r[k].p50 <= r[k].p90, `${k}: p50 ${r[k].p50} µs <= p90 ${r[k].p90} µs`)
  }
  // tap fails a test file that leaves a child process holding the event loop; a second reading also works.
  const again = await loopbackRtt({ backToBack: 10, afterIdle: 1, idleMs: 1 })
  t.ok(again.backToBackUs.p50 > 0)
})
