// Where the time of an authorisation goes, stage by stage, for the slowest ones as for all (BENCH_STAGE_TRACE=1
// of pnpm bench:auth:cpu): the scheme side's send and answer times, joined on the duplicate key with the
// processor's stage trace (PROCESSOR_STAGE_TRACE_FILE, cde/processor/src/pipeline/stage-trace.ts).
import type { StageTraceEntry } from '@cardplane/processor'
import { visaDuplicateKey } from '@cardplane/visa'

/** One answered request as the load generator saw it. */
export interface SchemeSideRecord {
  /** `visa:<DE 32>:<DE 7>:<DE 11>`, as the processor's duplicate key. */
  key: string
  /** When it was due to be sent (epoch ms): latency counts from here. */
  sentAt: number
  latencyMs: number
}

/** The scheme side's key of a request: the processor's duplicate key (visaDuplicateKey). */
export function schemeSideKey(fields: Record<string, unknown>): string {
  return visaDuplicateKey(String(fields['32']), String(fields['7']), String(fields['11']))
}

/** Mean milliseconds of each segment, in path order. */
export type SegmentMeans = Record<string, number>

export interface StageBreakdown {
  /** Requests found on both sides, and scheme-side requests the trace did not have. */
  matched: number
  unmatched: number
  /**
   * Mean ms per segment: `toEdge` (due time to the edge's last byte: the load generator's own delay and the
   * TCP hop), `edgeToPipeline` (the edge's hold and the hop to the processor), each participant, and `back`
   * (answer ready to answer read by the scheme side: hop to the edge, the edge, TCP, the load generator).
   */
  all: SegmentMeans & { latency: number }
  slowest10pct: SegmentMeans & { latency: number }
  slowest1pct: SegmentMeans & { latency: number }
  /**
   * When the slowest 1 % were due, in 100 ms windows from the first timed request (seconds), the ten
   * fullest: clustered windows point at something that stalled everything at once.
   */
  slowest1pctWindows: { atS: number; count: number }[]
  /**
   * The three processes stamp their own wall-clock times (`performance.timeOrigin` + `performance.now()`,
   * the origin fixed when each started). If the machine's clock was stepped between their starts, the hops
   * between them come out negative on average (seen once, just after a machine booted: `toEdge` +104 ms,
   * `edgeToPipeline` −59 ms): then the segments across processes mean nothing, the participants' still do.
   */
  clocksDisagree: boolean
}

interface Joined {
  latency: number
  sentAt: number
  segments: Record<string, number>
}

function means(rows: readonly Joined[]): SegmentMeans & { latency: number } {
  const sums: Record<string, number> = {}
  for (const r of rows) for (const [k, v] of Object.entries(r.segments)) sums[k] = (sums[k] ?? 0) + v
  const out: Record<string, number> = { latency: round2(rows.reduce((a, r) => a + r.latency, 0) / Math.max(1, rows.length)) }
  for (const [k, v] of Object.entries(sums)) out[k] = round2(v / Math.max(1, rows.length))
  return out as SegmentMeans & { latency: number }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100
}

/** Join both sides and summarise; see {@link StageBreakdown}. */
export function stageBreakdown(scheme: readonly SchemeSideRecord[], trace: readonly StageTraceEntry[]): StageBreakdown {
  const byKey = new Map(trace.map((e) => [e.key, e]))
  const rows: Joined[] = []
  let unmatched = 0
  for (const s of scheme) {
    const e = byKey.get(s.key)
    if (!e) {
      unmatched++
      continue
    }
    rows.push({
      latency: s.latencyMs,
      sentAt: s.sentAt,
      segments: { toEdge: e.edgeAt - s.sentAt, edgeToPipeline: e.startedAt - e.edgeAt, ...e.stages, back: s.sentAt + s.latencyMs - e.answeredAt },
    })
  }
  rows.sort((a, b) => a.latency - b.latency)
  const tail = (fraction: number): Joined[] => rows.slice(Math.floor(rows.length * (1 - fraction)))
  const slowest = tail(0.01)
  // A loop, not Math.min(...): a long run has more rows than a call takes arguments.
  const first = rows.reduce((min, r) => Math.min(min, r.sentAt), Number.POSITIVE_INFINITY)
  const windows = new Map<number, number>()
  for (const r of slowest) {
    const w = Math.floor((r.sentAt - first) / 100)
    windows.set(w, (windows.get(w) ?? 0) + 1)
  }
  const all = means(rows)
  return {
    matched: rows.length,
    unmatched,
    all,
    slowest10pct: means(tail(0.1)),
    slowest1pct: means(slowest),
    slowest1pctWindows: [...windows]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, 10)
      .map(([w, count]) => ({ atS: w / 10, count })),
    clocksDisagree: ['toEdge', 'edgeToPipeline', 'back'].some((k) => (all[k] ?? 0) < 0),
  }
}
