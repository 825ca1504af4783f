import { asc, eq, sql } from 'drizzle-orm'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import type { PhysicalStorage, StorageOp } from '../domain/storage.js'
import { barrierEntries } from './schema.js'

/** PhysicalStorage on the `barrier_entries` table (drizzle). Values arrive already encrypted. */
export class PgStorage implements PhysicalStorage {
  private readonly db: NodePgDatabase

  constructor(pool: Pool) {
    this.db = drizzle(pool)
  }

  async get(path: string): Promise<Buffer | undefined> {
    const rows = await this.db.select({ value: barrierEntries.value }).from(barrierEntries).where(eq(barrierEntries.path, path))
    return rows[0]?.value
  }

  async list(prefix: string): Promise<string[]> {
    const rows = await this.db
      .select({ path: barrierEntries.path })
      .from(barrierEntries)
      .where(sql`starts_with(${barrierEntries.path}, ${prefix})`)
      .orderBy(asc(barrierEntries.path))
    return rows.map((r) => r.path.slice(prefix.length))
  }

  async apply(ops: StorageOp[]): Promise<void> {
    if (ops.length === 0) return
    await this.db.transaction(async (tx) => {
      for (const o of ops) {
        if (o.op === 'put') {
          await tx
            .insert(barrierEntries)
            .values({ path: o.path, value: o.value })
            .onConflictDoUpdate({ target: barrierEntries.path, set: { value: o.value, updatedAt: sql`now()` } })
        } else {
          await tx.delete(barrierEntries).where(eq(barrierEntries.path, o.path))
        }
      }
    })
  }
}
