import { fileURLToPath } from 'node:url'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import { migrateDatabase as migrateUnderLock, openDatabase as openServiceDatabase, type Database } from '@cardplane/pg-kit/drizzle'
import * as schema from './schema.js'

/** The ledger service's drizzle database. */
export type LedgerDb = NodePgDatabase<typeof schema>

/** A pool and the drizzle database on it. */
export type LedgerDatabase = Database<typeof schema>

const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url))

/**
 * Open a pool (statements prepared on the server, pipeline mode: see pg-kit) and drizzle on it. Drizzle
 * awaits each statement, so it runs as before; placing a hold pipelines its statements.
 */
export function openDatabase(url: string, max = 10, onIdleError?: (err: Error) => void): LedgerDatabase {
  return openServiceDatabase(url, schema, { max, pipeline: true, ...(onIdleError ? { onIdleError } : {}) })
}

/** Apply the SQL migrations in `drizzle/` under the service's migration lock. */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  await migrateUnderLock(pool, { service: 'ledger', folder: MIGRATIONS })
}
