import { createHash } from 'node:crypto'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import type pg from 'pg'
import { createPool } from './index.js'

/** A pool and the drizzle database on it. */
export interface Database<TSchema extends Record<string, unknown>> {
  pool: pg.Pool
  db: NodePgDatabase<TSchema>
  close(): Promise<void>
}

/**
 * Open a service database: an auto-preparing pool (see createPool) and drizzle on it. An idle pooled
 * connection can die (database restart, admin termination); without a listener the pool's 'error' event
 * would crash the process — the pool drops that client and opens a new one when needed.
 */
export function openDatabase<TSchema extends Record<string, unknown>>(
  url: string,
  schema: TSchema,
  opts: { max?: number; onIdleError?: (err: Error) => void; pipeline?: boolean; options?: string } = {},
): Database<TSchema> {
  const pool = createPool({
    connectionString: url,
    max: opts.max ?? 10,
    ...(opts.pipeline ? { pipeline: true } : {}),
    // Server settings for every connection, e.g. `-c plan_cache_mode=force_generic_plan`.
    ...(opts.options ? { options: opts.options } : {}),
  })
  pool.on('error', (err) => opts.onIdleError?.(err))
  const db = drizzle(pool, { schema })
  return { pool, db, close: () => pool.end() }
}

/** The advisory lock key a service's migrations run under (stable, derived from its name). */
export function migrationLockKey(service: string): bigint {
  return createHash('sha256').update(`cardplane-migrations:${service}`).digest().readBigInt64BE(0)
}

/**
 * Apply the SQL migrations in `folder` (drizzle's migrator) under a session advisory lock held on one
 * connection, so replicas starting at once do not race: the second waits, then finds nothing to do.
 */
export async function migrateDatabase(pool: pg.Pool, opts: { service: string; folder: string }): Promise<void> {
  const key = migrationLockKey(opts.service).toString()
  const client = await pool.connect()
  try {
    await client.query('select pg_advisory_lock($1::bigint)', [key])
    await migrate(drizzle(client), { migrationsFolder: opts.folder })
  } finally {
    await client.query('select pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined)
    client.release()
  }
}
