/**
 * Micro-batching of CVV verifications towards the key service. Verifications that arrive while the
 * card vault is busy (the same event-loop turn, or while earlier batches are still in flight) are sent
 * as ONE `payments/cvv/verify/<cvk>` call with Vault's `batch_input` convention; each caller still gets
 * its own verdict or its own error. The key service audits every item as its own request and response
 * rows, so batching changes the number of HTTP calls, not what is recorded.
 *
 * Nothing waits for a batch to fill: a batch leaves at the end of the current turn unless
 * `maxInFlight` batches for that key are already out, in which case items gather until one returns
 * (group-commit style: batches grow only when the key service is the bottleneck).
 */

/** One item of `batch_input` as the key service expects it (the body of a single verify call). */
export type CvvVerifyItem = Record<string, unknown>

/** One entry of `batch_results`. */
export interface CvvBatchResult {
  valid?: unknown
  error?: unknown
  code?: unknown
}

/** Sends one batch for one CVK; resolves with `batch_results` (same order) or rejects for the whole batch. */
export type SendCvvBatch = (cvkName: string, items: CvvVerifyItem[]) => Promise<CvvBatchResult[]>

/** An item's own failure (malformed field, unknown key version): carries the key service's code only. */
export class CvvItemError extends Error {
  constructor(readonly code: string) {
    super(`key service refused the CVV item (${code})`)
    this.name = 'CvvItemError'
  }
}

interface Waiter {
  item: CvvVerifyItem
  resolve: (valid: boolean) => void
  reject: (err: unknown) => void
}

interface Lane {
  queue: Waiter[]
  inFlight: number
  scheduled: boolean
}

/** Options of {@link CvvBatcher}. */
export interface CvvBatcherOptions {
  /** Most items per call (the key service accepts up to 256). */
  maxBatch: number
  /** Calls per CVK in flight at once before items wait for one to return (default 2). */
  maxInFlight?: number
}

export class CvvBatcher {
  readonly #lanes = new Map<string, Lane>()
  readonly #maxBatch: number
  readonly #maxInFlight: number
  /** Calls sent and items carried, for the benchmark. */
  readonly stats = { calls: 0, items: 0 }

  constructor(
    private readonly send: SendCvvBatch,
    opts: CvvBatcherOptions,
  ) {
    this.#maxBatch = Math.max(1, Math.min(256, opts.maxBatch))
    this.#maxInFlight = Math.max(1, opts.maxInFlight ?? 2)
  }

  verify(cvkName: string, item: CvvVerifyItem): Promise<boolean> {
    let lane = this.#lanes.get(cvkName)
    if (!lane) {
      lane = { queue: [], inFlight: 0, scheduled: false }
      this.#lanes.set(cvkName, lane)
    }
    const l = lane
    return new Promise<boolean>((resolve, reject) => {
      l.queue.push({ item, resolve, reject })
      if (l.queue.length >= this.#maxBatch && l.inFlight < this.#maxInFlight) this.#dispatch(cvkName, l)
      else if (!l.scheduled) {
        l.scheduled = true
        setImmediate(() => {
          l.scheduled = false
          this.#pump(cvkName, l)
        })
      }
    })
  }

  #pump(cvkName: string, lane: Lane): void {
    while (lane.queue.length > 0 && lane.inFlight < this.#maxInFlight) this.#dispatch(cvkName, lane)
  }

  #dispatch(cvkName: string, lane: Lane): void {
    const batch = lane.queue.splice(0, this.#maxBatch)
    lane.inFlight++
    this.stats.calls++
    this.stats.items += batch.length
    this.send(
      cvkName,
      batch.map((w) => w.item),
    )
      .then(
        (results) => {
          batch.forEach((w, i) => {
            const r = results[i]
            if (r && typeof r.valid === 'boolean' && r.error === undefined) w.resolve(r.valid)
            else w.reject(new CvvItemError(typeof r?.code === 'string' ? r.code : 'missing_result'))
          })
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err)
        },
      )
      .finally(() => {
        lane.inFlight--
        this.#pump(cvkName, lane)
      })
  }
}
