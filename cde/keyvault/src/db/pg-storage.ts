import type { Pool } from 'pg'
import type { PhysicalStorage, StorageOp } from '../domain/storage.js'

/** PhysicalStorage on the `barrier_entries` table. */
export class PgStorage implements PhysicalStorage {
  constructor(private readonly pool: Pool) {}

  async get(path: string): Promise<Buffer | undefined> {
    const r = await this.pool.query<{ value: Buffer }>('SELECT value FROM barrier_entries WHERE path = $1', [path])
    return r.rows[0]?.value
  }

  async list(prefix: string): Promise<string[]> {
    const r = await this.pool.query<{ path: string }>(
      "SELECT path FROM barrier_entries WHERE starts_with(path, $1) ORDER BY path",
      [prefix],
    )
    return r.rows.map((x) => x.path.slice(prefix.length))
  }

  async apply(ops: StorageOp[]): Promise<void> {
    if (ops.length === 0) return
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      for (const o of ops) {
        if (o.op === 'put') {
          await client.query(
            'INSERT INTO barrier_entries (path, value, updated_at) VALUES ($1, $2, now()) ON CONFLICT (path) DO UPDATE SET value = EXCLUDED.value, updated_at = now()',
            [o.path, o.value],
          )
        } else {
          await client.query('DELETE FROM barrier_entries WHERE path = $1', [o.path])
        }
      }
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      client.release()
    }
  }
}
