/**
 * Adaptive batching for hot paths: callers submit one item at a time and get one answer back, while the
 * work runs in batches. Up to `maxConcurrent` batches run at once; an item submitted while a slot is free
 * starts at the end of the current event-loop turn (a batch of one when the service is quiet: no timer, no
 * added latency), together with whatever else was submitted in that turn. Items submitted while every slot is
 * busy wait and leave together, up to `maxBatch` at a time, when a slot frees up. So batches grow with the
 * load exactly when per-call overhead (round trips, commits, wake-ups) matters.
 *
 * Items that share a key never ride in the same batch (e.g. two authorisations of one card, which must be
 * decided one after the other); the later one waits for a following batch, in arrival order.
 */

/** One item's outcome from a batch run: its value, or the error that fails that item alone. */
export type BatchOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown }

/** Options of {@link createBatcher}. */
export interface BatcherOptions<I, O> {
  /** Run one batch (1..maxBatch items); outcomes in the items' order. A throw fails every item of the batch. */
  run(items: I[]): Promise<BatchOutcome<O>[]>
  /** Largest batch. */
  maxBatch: number
  /** Batches running at once. */
  maxConcurrent: number
  /** Keys of an item: items sharing one never go in the same batch. */
  keys?(item: I): readonly string[]
  /** Called with the size of every batch started (a histogram, say). */
  onBatch?(size: number): void
  /**
   * A batch still running after this long gives its slot up (it keeps running): one slow batch cannot
   * hold up the items queued behind it for longer than this. Default: slots are held to the end.
   */
  slotReleaseMs?: number
}

/** Submits items one at a time; see the module comment. */
export interface Batcher<I, O> {
  submit(item: I): Promise<O>
  /** Items waiting for a slot (not counting running batches). */
  readonly waiting: number
  /** Batches holding a slot now. */
  readonly running: number
}

interface Pending<I, O> {
  item: I
  resolve(value: O): void
  reject(err: unknown): void
}

/** Create a batcher; see the module comment. */
export function createBatcher<I, O>(opts: BatcherOptions<I, O>): Batcher<I, O> {
  if (!(opts.maxBatch >= 1) || !(opts.maxConcurrent >= 1)) throw new RangeError('maxBatch and maxConcurrent must be at least 1')
  let queue: Pending<I, O>[] = []
  let running = 0

  /** The next batch from the front of the queue: oldest first, at most one item per key. */
  function take(): Pending<I, O>[] {
    if (!opts.keys) {
      const batch = queue.slice(0, opts.maxBatch)
      queue = queue.slice(batch.length)
      return batch
    }
    const batch: Pending<I, O>[] = []
    const rest: Pending<I, O>[] = []
    const taken = new Set<string>()
    for (const p of queue) {
      const keys = batch.length < opts.maxBatch ? opts.keys(p.item) : undefined
      if (keys && !keys.some((k) => taken.has(k))) {
        batch.push(p)
        for (const k of keys) taken.add(k)
      } else {
        // A skipped item's keys stay taken, so a later item of the same key cannot overtake it.
        if (keys) for (const k of keys) taken.add(k)
        rest.push(p)
      }
    }
    queue = rest
    return batch
  }

  async function runBatch(batch: Pending<I, O>[]): Promise<void> {
    opts.onBatch?.(batch.length)
    try {
      const outcomes = await opts.run(batch.map((p) => p.item))
      batch.forEach((p, i) => {
        const o = outcomes[i]
        if (!o) p.reject(new Error(`batch run returned ${outcomes.length} outcomes for ${batch.length} items`))
        else if (o.ok) p.resolve(o.value)
        else p.reject(o.error)
      })
    } catch (err) {
      for (const p of batch) p.reject(err)
    }
  }

  function pump(): void {
    while (running < opts.maxConcurrent && queue.length > 0) {
      const batch = take()
      running++
      let held = true
      const free = (): void => {
        if (!held) return
        held = false
        running--
        pump()
      }
      const timer = opts.slotReleaseMs === undefined ? undefined : setTimeout(free, opts.slotReleaseMs)
      timer?.unref()
      void runBatch(batch).finally(() => {
        clearTimeout(timer)
        free()
      })
    }
  }

  // Items submitted in one turn of the event loop (a batch request's items, or the frames of every request
  // that arrived in one wake-up, each in its own I/O callback) are queued before the pump runs, right after
  // that turn's I/O callbacks (setImmediate: no timer, no added wait when the turn is done): they leave
  // together even with slots free. A microtask would run after the first callback and send each alone.
  let scheduled = false
  function schedule(): void {
    if (scheduled) return
    scheduled = true
    setImmediate(() => {
      scheduled = false
      pump()
    })
  }

  return {
    submit(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject })
        schedule()
      })
    },
    get waiting() {
      return queue.length
    },
    get running() {
      return running
    },
  }
}
