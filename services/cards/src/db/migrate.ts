import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Pool } from 'pg'
import { migrateDatabase } from '@cardplane/pg-kit/drizzle'

/** The committed SQL migrations, resolved from this file, not the cwd. */
export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../drizzle')

/** Apply pending migrations under the service's migration lock (replicas starting together do not race). */
export async function runMigrations(pool: Pool): Promise<void> {
  await migrateDatabase(pool, { service: 'cards', folder: MIGRATIONS_DIR })
}
