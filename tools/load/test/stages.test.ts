import t from 'tap'
import type { StageTraceEntry } from '@cardplane/processor'
import { schemeSideKey, stageBreakdown, type SchemeSideRecord } from '../src/stages.js'

t.test('the scheme side computes the processor duplicate key from DE 32, 7 and 11', async (t) => {
  t.equal(schemeSideKey({ '2': 'never used', '7': '1205170000', '11': '000123', '32': '400050' }), 'visa:400050:1205170000:000123')
})

t.test('segments are joined per request; the slow ones get their own means and their windows', async (t) => {
  const scheme: SchemeSideRecord[] = []
  const trace: StageTraceEntry[] = []
  // 200 requests 10 ms apart: 198 fast (20 ms), two slow (120 ms) 50 ms apart, whose verify stage took 100 ms more.
  for (let i = 0; i < 200; i++) {
    const sentAt = 1_000_000 + i * 10
    const slow = i === 150 || i === 155
    const key = `visa:400050:1205170000:${String(i).padStart(6, '0')}`
    scheme.push({ key, sentAt, latencyMs: slow ? 120 : 20 })
    trace.push({ key, edgeAt: sentAt + 1, startedAt: sentAt + 9, stages: { 'duplicate-check': 1, 'verify-card': slow ? 104 : 4, decide: 3, respond: 0.5 }, answeredAt: sentAt + (slow ? 118 : 18) })
  }
  scheme.push({ key: 'visa:400050:1205170000:999999', sentAt: 1_000_000, latencyMs: 5 })
  const b = stageBreakdown(scheme, trace)
  t.equal(b.matched, 200)
  t.equal(b.unmatched, 1, 'a request the trace does not have is counted, not joined')
  t.same(b.slowest1pct, { latency: 120, toEdge: 1, edgeToPipeline: 8, 'duplicate-check': 1, 'verify-card': 104, decide: 3, respond: 0.5, back: 2 })
  t.equal(b.all['verify-card'], 5, '(198 x 4 + 2 x 104) / 200')
  t.equal(b.all.latency, 21)
  t.same(b.slowest1pctWindows, [{ atS: 1.5, count: 2 }], 'both slow requests were due in the window 1.5 s after the first')
  t.equal(b.slowest10pct.latency, 30, '(18 x 20 + 2 x 120) / 20')
  t.equal(b.clocksDisagree, false)
})

t.test('a clock stepped between the processes shows as a hop with a negative mean', async (t) => {
  const scheme: SchemeSideRecord[] = [{ key: 'k1', sentAt: 1_000_000, latencyMs: 20 }]
  // The edge stamped 100 ms late (its clock ahead): toEdge +101, edgeToPipeline -92.
  const trace: StageTraceEntry[] = [{ key: 'k1', edgeAt: 1_000_101, startedAt: 1_000_009, stages: { decide: 5 }, answeredAt: 1_000_018 }]
  const b = stageBreakdown(scheme, trace)
  t.equal(b.all.edgeToPipeline, -92)
  t.equal(b.clocksDisagree, true)
})
