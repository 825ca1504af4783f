import { fileURLToPath } from 'node:url'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import type pg from 'pg'
import { createPool } from '@cardplane/pg-kit'
import * as schema from './schema.js'

/** The ledger's drizzle database. */
export type LedgerDb = NodePgDatabase<typeof schema>

/** A pool and the drizzle database on it. */
export interface LedgerDatabase {
  pool: pg.Pool
  db: LedgerDb
  close(): Promise<void>
}

const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url))
// Arbitrary constant: serialises migrations when several replicas start at once.
const MIGRATION_LOCK = 7_002_001

/** Open a pool to the ledger database. */
export function openDatabase(url: string, max = 10, onIdleError?: (err: Error) => void): LedgerDatabase {
  // Statements are prepared on the server automatically (pg-kit): the hot paths repeat the same few texts.
  const pool = createPool({ connectionString: url, max })
  // An idle pooled connection can die (database restart, admin termination). Without a listener the
  // 'error' event would crash the process; the pool drops that client and opens a new one when needed.
  pool.on('error', (err) => onIdleError?.(err))
  const db = drizzle(pool, { schema })
  return { pool, db, close: () => pool.end() }
}

/**
 * Apply the SQL migrations in `drizzle/` (drizzle's migrator), under a session advisory lock held on one
 * connection so concurrent starts do not race.
 */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK])
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS })
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined)
    client.release()
  }
}
