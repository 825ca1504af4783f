import t from 'tap'
import { fileURLToPath } from 'node:url'
import { migrateDatabase, migrationLockKey, openDatabase } from '../src/drizzle.js'
import { createTestDatabase } from '../src/testing.js'

const folder = fileURLToPath(new URL('./fixtures/migrations', import.meta.url))

t.test('replicas migrating at once: one applies, the other waits and finds nothing to do', async (t) => {
  const tdb = await createTestDatabase('pgkit_migrate')
  t.teardown(() => tdb.drop())
  const a = openDatabase(tdb.url, {}, { max: 2 })
  const b = openDatabase(tdb.url, {}, { max: 2 })
  t.teardown(async () => {
    await a.close()
    await b.close()
  })
  // The migration sleeps between creating and filling the table: without the lock the second replica would
  // try to create it again and fail.
  await Promise.all([migrateDatabase(a.pool, { service: 'widgets', folder }), migrateDatabase(b.pool, { service: 'widgets', folder })])
  const rows = await a.pool.query<{ n: number }>('select n from widgets')
  t.same(rows.rows, [{ n: 1 }])
  const applied = await a.pool.query<{ c: string }>('select count(*)::text as c from drizzle.__drizzle_migrations')
  t.equal(applied.rows[0]!.c, '1')
  // And again on a later start: nothing to do.
  await migrateDatabase(b.pool, { service: 'widgets', folder })
  t.same((await b.pool.query('select n from widgets')).rows, [{ n: 1 }])
})

t.test('each service has its own lock key', async (t) => {
  t.not(migrationLockKey('ledger'), migrationLockKey('authorizations'))
  t.equal(migrationLockKey('ledger'), migrationLockKey('ledger'))
})
