import { fileURLToPath } from 'node:url'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import { migrateDatabase as migrateUnderLock, openDatabase as openServiceDatabase, type Database } from '@cardplane/pg-kit/drizzle'
import * as schema from './schema.js'

/** The authorizations service's drizzle database. */
export type AuthorizationsDb = NodePgDatabase<typeof schema>

/** A pool and the drizzle database on it. */
export type AuthorizationsDatabase = Database<typeof schema>

const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url))

/**
 * Open a pool (statements prepared on the server, pipeline mode: see pg-kit) and drizzle on it. Drizzle
 * awaits each statement, so it runs as before; the decision's hot path pipelines its statements. Generic
 * plans for every prepared statement: the service's queries are key lookups, and the decision batch's
 * facts statement (`unnest` over arrays) otherwise gets a custom plan on every execution (~440 µs of
 * planning each, measured with pg_stat_statements under bench:auth:cpu).
 */
export function openDatabase(url: string, max = 10, onIdleError?: (err: Error) => void): AuthorizationsDatabase {
  return openServiceDatabase(url, schema, {
    max,
    pipeline: true,
    options: '-c plan_cache_mode=force_generic_plan',
    ...(onIdleError ? { onIdleError } : {}),
  })
}

/** Apply the SQL migrations in `drizzle/` under the service's migration lock. */
export async function migrateDatabase(pool: pg.Pool): Promise<void> {
  await migrateUnderLock(pool, { service: 'authorizations', folder: MIGRATIONS })
}
