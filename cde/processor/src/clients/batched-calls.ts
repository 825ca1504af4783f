import { createBatcher, type BatchOutcome } from '@cardplane/service-kit'

/** How a client groups its calls under load. */
export interface CallBatching {
  /** Most items in one batch call; 1 turns batching off. */
  max: number
  /** Calls in flight at once. */
  concurrency: number
  /** A call still running after this long stops counting against `concurrency` (default 50 ms). */
  slotReleaseMs?: number
}

/**
 * A remote call per item when the link is quiet, batch calls under load (see service-kit's createBatcher):
 * up to `concurrency` calls in flight; an item finding one free goes alone through `one`, items arriving
 * while all are busy leave together through `many` when a call returns or has run `slotReleaseMs` (a slow
 * call delays the queue by that at most). A batch call runs until the latest deadline of its items; each
 * caller still races its own deadline (the pipeline's participants do).
 */
export function batchedCalls<I, O>(
  batching: CallBatching,
  calls: {
    one(item: I, timeoutMs: number): Promise<O>
    /** One outcome per item, in order (an item's failure fails that item alone). */
    many(items: I[], timeoutMs: number): Promise<BatchOutcome<O>[]>
  },
): (item: I, timeoutMs: number) => Promise<O> {
  const batcher = createBatcher<{ item: I; deadline: number }, O>({
    maxBatch: batching.max,
    maxConcurrent: batching.concurrency,
    slotReleaseMs: batching.slotReleaseMs ?? 50,
    async run(entries) {
      const timeoutMs = Math.max(1, Math.max(...entries.map((e) => e.deadline)) - Date.now())
      if (entries.length === 1) return [{ ok: true, value: await calls.one(entries[0]!.item, timeoutMs) }]
      return calls.many(
        entries.map((e) => e.item),
        timeoutMs,
      )
    },
  })
  return (item, timeoutMs) => (batching.max <= 1 ? calls.one(item, timeoutMs) : batcher.submit({ item, deadline: Date.now() + timeoutMs }))
}
