/**
 * Physical storage under the barrier: an opaque path → bytes map. The PostgreSQL implementation lives
 * in `db/pg-storage.ts`; the barrier (`barrier.ts`) is the only code that reads or writes it, so every
 * value at rest except the seal configuration and the wrapped root key is AES-256-GCM ciphertext.
 */
export interface PhysicalStorage {
  get(path: string): Promise<Buffer | undefined>
  /** Keys directly or indirectly under `prefix`, returned relative to it, sorted. */
  list(prefix: string): Promise<string[]>
  /** Apply puts and deletes atomically: all or nothing. */
  apply(ops: StorageOp[]): Promise<void>
}

/** One write in an atomic batch. */
export type StorageOp = { op: 'put'; path: string; value: Buffer } | { op: 'delete'; path: string }
