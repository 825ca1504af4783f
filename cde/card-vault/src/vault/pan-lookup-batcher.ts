/**
 * PAN-index lookups of the verify path, batched: lookups arriving in the same event-loop turn (or while
 * `maxInFlight` queries are already out) are answered by one query joining the array of HMACs to the
 * index instead of one query each. Read-only, and answered by position in the array, so each caller
 * gets exactly the row its own lookup would have returned; a failed query fails the lookups it carried.
 */
import type { CardRow, CardStore } from '../store/card-store.js'

interface Waiter {
  hmac: Buffer
  resolve: (row: CardRow | undefined) => void
  reject: (err: unknown) => void
}

export class PanLookupBatcher {
  #queue: Waiter[] = []
  #inFlight = 0
  #scheduled = false
  /** Queries sent and lookups carried. */
  readonly stats = { queries: 0, lookups: 0 }

  constructor(
    private readonly store: Pick<CardStore, 'findByPanHmacs'>,
    private readonly opts: { maxBatch: number; maxInFlight: number } = { maxBatch: 128, maxInFlight: 4 },
  ) {}

  find(hmac: Buffer): Promise<CardRow | undefined> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ hmac, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => {
          this.#scheduled = false
          this.#pump()
        })
      }
    })
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.opts.maxInFlight) {
      const batch = this.#queue.splice(0, this.opts.maxBatch)
      this.#inFlight++
      this.stats.queries++
      this.stats.lookups += batch.length
      // One array element per lookup (the same PAN twice is two elements, each answered with its row).
      this.store
        .findByPanHmacs(batch.map((w) => w.hmac))
        .then(
          (rows) => {
            for (let i = 0; i < batch.length; i++) (batch[i] as Waiter).resolve(rows[i])
          },
          (err: unknown) => {
            for (const w of batch) w.reject(err)
          },
        )
        .finally(() => {
          this.#inFlight--
          this.#pump()
        })
    }
  }
}
