import { authorizationRequest, VisaLinkClient, type SimCard } from '@cardplane/tool-sim'

/** Latency summary of one run (ms). */
export interface RunResult {
  name: string
  mode: 'closed-loop' | 'fixed-rate'
  /** Offered rate (fixed-rate) or concurrency (closed-loop). */
  target: number
  durationS: number
  sent: number
  answered: number
  /** Answers other than the expected DE 39, plus timeouts and link errors. */
  errors: number
  errorsByKind: Record<string, number>
  throughputPerS: number
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number }
  /**
   * Fixed-rate runs: the first seconds at the new rate, sent and answered but not timed (see fixedRate).
   * Their errors are also counted in `errors` and `errorsByKind` (prefixed `settle_`): nothing is hidden.
   */
  settle?: { seconds: number; sent: number; answered: number; errors: number }
}

/** Nearest-rank percentile `p` (0-100) of ascending `sorted`, to 0.01; 0 for no values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return Math.round(sorted[Math.max(0, i)]! * 100) / 100
}

/** Summarise latencies. */
export function summarise(latencies: number[]): RunResult['latencyMs'] {
  const s = [...latencies].sort((a, b) => a - b)
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), p999: percentile(s, 99.9), max: percentile(s, 100), mean: Math.round(mean * 100) / 100 }
}

/** What one load run sends: connections to a link and cards to use round robin. */
export interface LoadTarget {
  links: VisaLinkClient[]
  cards: SimCard[]
  /** Expected DE 39 (anything else counts as an error). */
  expect: string
  amountMinor: number
}

/** Each answered request of a timed run: its fields, when it was due (epoch ms), its latency (ms). */
export type AnswerListener = (fields: Record<string, unknown>, dueAt: number, latencyMs: number) => void

/** Each failed request of a timed run: when it was due (epoch ms) and the kind counted in `errorsByKind`. */
export type FailureListener = (dueAt: number, kind: string) => void

class Recorder {
  latencies: number[] = []
  sent = 0
  answered = 0
  errors: Record<string, number> = {}
  private next = 0
  constructor(
    private readonly target: LoadTarget,
    private readonly onAnswered?: AnswerListener,
    private readonly onFailed?: FailureListener,
  ) {}

  private fail(kind: string, start: number): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1
    this.onFailed?.(performance.timeOrigin + start, kind)
  }

  async one(scheduledAt?: number): Promise<void> {
    const t = this.target
    const i = this.next++
    const link = t.links[i % t.links.length]!
    const card = t.cards[i % t.cards.length]!
    const msg = authorizationRequest(card, {}, {
      kind: 'ecommerce',
      amountMinor: t.amountMinor,
      currency: 'EUR',
      mcc: '5411',
      country: 'DE',
      stan: link.nextStan(),
      transmissionTime: VisaLinkClient.transmissionTime(),
    })
    const start = scheduledAt ?? performance.now()
    this.sent++
    try {
      const a = await link.send(msg)
      this.answered++
      const de39 = String(a.message.fields['39'])
      if (de39 !== t.expect) this.fail(`de39_${de39}`, start)
      // Measured from the scheduled send time in fixed-rate runs (no coordinated omission).
      const latency = performance.now() - start
      this.latencies.push(latency)
      this.onAnswered?.(msg.fields, performance.timeOrigin + start, latency)
    } catch (err) {
      this.fail((err as { code?: string }).code ?? 'error', start)
    }
  }

  result(name: string, mode: RunResult['mode'], target: number, durationS: number): RunResult {
    const errors = Object.values(this.errors).reduce((a, b) => a + b, 0)
    return {
      name,
      mode,
      target,
      durationS,
      sent: this.sent,
      answered: this.answered,
      errors,
      errorsByKind: this.errors,
      throughputPerS: Math.round((this.answered / durationS) * 10) / 10,
      latencyMs: summarise(this.latencies),
    }
  }
}

/** Closed loop: `concurrency` requests always in flight for `durationS`. */
export async function closedLoop(name: string, target: LoadTarget, concurrency: number, durationS: number): Promise<RunResult> {
  const rec = new Recorder(target)
  const until = performance.now() + durationS * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) await rec.one()
    }),
  )
  return rec.result(name, 'closed-loop', concurrency, (performance.now() - started) / 1000)
}

/**
 * How often the fixed-rate sender wakes to send what is due (ms). Latency is measured from each request's
 * own scheduled time, so requests held to the next tick count their wait.
 */
const TICK_MS = Number(process.env.BENCH_TICK_MS ?? 2)

/**
 * Seconds a fixed-rate run sends at its rate before it starts timing (BENCH_SETTLE_S, default 2). A step to
 * a new rate (from the warm-up's closed loop, or from the previous rate) shows a transient in its first
 * second or two (p99 90–96 ms there, 53–74 ms in every later second of the same 500/s run): the percentiles
 * describe the steady state at the rate, the settle's errors still count.
 */
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 2)

/**
 * Fixed rate: `rate` requests per second for `settleS` + `durationS`, whatever the answers do (open loop).
 * Only the requests scheduled after the settle are timed; `onMeasuring` runs when the first of them is sent
 * (to start CPU accounting there), `onAnswered` for each of them answered, `onFailed` for each of them that
 * failed (a wrong DE 39 is both answered and failed).
 */
export async function fixedRate(
  name: string,
  target: LoadTarget,
  rate: number,
  durationS: number,
  opts: { settleS?: number; onMeasuring?: () => void; onAnswered?: AnswerListener; onFailed?: FailureListener } = {},
): Promise<RunResult> {
  const settleS = opts.settleS ?? SETTLE_S
  const settle = new Recorder(target)
  const rec = new Recorder(target, opts.onAnswered, opts.onFailed)
  const started = performance.now()
  const settleCount = Math.round(rate * settleS)
  const total = settleCount + Math.round(rate * durationS)
  const interval = 1000 / rate
  const inflight: Promise<void>[] = []
  let sent = 0
  while (sent < total) {
    const now = performance.now()
    const due = Math.min(total, Math.floor((now - started) / interval) + 1)
    while (sent < due) {
      if (sent === settleCount) opts.onMeasuring?.()
      inflight.push((sent < settleCount ? settle : rec).one(started + sent * interval))
      sent++
    }
    await new Promise((r) => setTimeout(r, TICK_MS))
  }
  await Promise.all(inflight)
  const result = rec.result(name, 'fixed-rate', rate, durationS)
  if (settleCount === 0) return result
  const s = settle.result(name, 'fixed-rate', rate, settleS)
  const errorsByKind = { ...result.errorsByKind }
  for (const [k, n] of Object.entries(s.errorsByKind)) errorsByKind[`settle_${k}`] = n
  return { ...result, errors: result.errors + s.errors, errorsByKind, settle: { seconds: settleS, sent: s.sent, answered: s.answered, errors: s.errors } }
}
