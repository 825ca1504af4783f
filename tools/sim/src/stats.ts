/** Latency percentiles (ms). */
export interface Percentiles {
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  mean: number
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return Math.round(sorted[Math.max(0, i)]! * 100) / 100
}

/** Summarise latencies (nearest-rank percentiles). */
export function summarise(latencies: number[]): Percentiles {
  const s = [...latencies].sort((a, b) => a - b)
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)
  return { p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), p999: pct(s, 99.9), max: pct(s, 100), mean: Math.round(mean * 100) / 100 }
}
