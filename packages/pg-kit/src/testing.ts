import { randomBytes } from 'node:crypto'
import pg from 'pg'

const ADMIN_URL = process.env.CARDPLANE_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Test helpers: throw-away databases on the local PostgreSQL (`CARDPLANE_TEST_PG_ADMIN_URL`). */

/** A throw-away database with a unique name; `drop()` removes it. */
export interface TestDatabase {
  url: string
  name: string
  drop(): Promise<void>
}

/** Create a uniquely named database so parallel test files (and other helpers' runs) never collide. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `t_${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  try {
    await admin.query(`create database "${name}"`)
  } finally {
    await admin.end()
  }
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL })
      await c.connect()
      try {
        await c.query(`drop database if exists "${name}" with (force)`)
      } finally {
        await c.end()
      }
    },
  }
}
