import { appendFile } from 'node:fs/promises'

/**
 * One authorisation's way through the pipeline, as the stage trace writes it (one JSON line each). Times
 * are epoch milliseconds with microsecond decimals (performance.timeOrigin + performance.now()), so lines
 * from several processes on one machine line up. Nothing here is card data: the duplicate key is the
 * network identity of the message (`visa:<DE 32>:<DE 7>:<DE 11>`), the rest are times.
 */
export interface StageTraceEntry {
  /** The authorisation's duplicate key (DE 32, DE 7, DE 11): the same string on the scheme's side. */
  key: string
  /** When the TCP edge (proxy-public) had the frame's last byte. */
  edgeAt: number
  /** When the pipeline started on it (after the edge's hold and the hop to the processor). */
  startedAt: number
  /** Milliseconds in each participant that ran, in order. */
  stages: Record<string, number>
  /** When the answer frame was ready to leave (before the hop back to the edge). */
  answeredAt: number
}

/** Epoch milliseconds with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now()
}

/**
 * The stage trace (PROCESSOR_STAGE_TRACE_FILE): per-authorisation participant timings, in the spirit of
 * jPOS's TransactionManager profiler, for finding where the slowest authorisations spend their time (the
 * load benchmark joins it with the scheme side's send and receive times). Lines are buffered and appended
 * once a second, off the authorisation's clock; a failed write drops that second's lines and is counted,
 * never thrown into the pipeline.
 */
export class StageTraceFile {
  private lines: string[] = []
  private writing: Promise<void> = Promise.resolve()
  private readonly timer: NodeJS.Timeout
  /** Lines lost to failed writes. */
  dropped = 0

  constructor(
    private readonly path: string,
    flushMs = 1000,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs)
    this.timer.unref()
  }

  record(entry: StageTraceEntry): void {
    this.lines.push(JSON.stringify(entry))
  }

  /** Append what is buffered; resolves when it is on its way to the file (writes never overlap). */
  flush(): Promise<void> {
    if (this.lines.length === 0) return this.writing
    const batch = this.lines
    this.lines = []
    this.writing = this.writing.then(() =>
      appendFile(this.path, batch.join('\n') + '\n', { mode: 0o600 }).catch(() => {
        this.dropped += batch.length
      }),
    )
    return this.writing
  }

  /** Stop the timer and write the rest. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.flush()
  }
}
