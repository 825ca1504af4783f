/**
 * PAN-index lookups of the verify path, batched: lookups arriving in the same event-loop turn (or while
 * `maxInFlight` queries are already out) are answered by one `WHERE pan_hmac = ANY(...)` query instead
 * of one query each. Read-only and keyed by the PAN's HMAC, so each caller gets exactly the row its
 * own lookup would have returned; a failed query fails the lookups it carried.
 */
import type { CardRow, CardStore } from '../store/card-store.js'

interface Waiter {
  key: string
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
      this.#queue.push({ key: hmac.toString('hex'), hmac, resolve, reject })
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
      // The same PAN twice in one batch is one array element; both callers get its row.
      const unique = new Map<string, Buffer>()
      for (const w of batch) unique.set(w.key, w.hmac)
      this.store
        .findByPanHmacs([...unique.values()])
        .then(
          (rows) => {
            for (const w of batch) w.resolve(rows.get(w.key))
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
