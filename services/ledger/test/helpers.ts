import type { Test } from 'tap'
import { migrateDatabase, openDatabase, type LedgerDatabase } from '../src/db/client.js'
import { LedgerStore } from '../src/store/ledger-store.js'
import { createTestDatabase } from '@cardplane/pg-kit/testing'

/** An amount in EUR minor units. */
export const eur = (minor: number) => ({ minor, currency: 'EUR' })

/** A ledger store on a throw-away database (dropped at the end of `t`), with a clock the test moves. */
export interface StoreHarness {
  store: LedgerStore
  database: LedgerDatabase
  /** The store's clock. */
  clock: { now: Date }
  /** A new EUR account credited with `minor` (nothing when 0). */
  funded(minor: number): Promise<string>
}

export async function storeHarness(t: Test, prefix: string): Promise<StoreHarness> {
  const tdb = await createTestDatabase(prefix)
  const database = openDatabase(tdb.url, 20)
  t.teardown(async () => {
    await database.close()
    await tdb.drop()
  })
  await migrateDatabase(database.pool)
  const clock = { now: new Date('2026-11-22T03:00:00Z') }
  const store = new LedgerStore(database, { holdTtlSeconds: 3600, now: () => clock.now })
  return {
    store,
    database,
    clock,
    async funded(minor) {
      const { account } = await store.createAccount({ currency: 'EUR' })
      if (minor > 0) await store.credit({ accountId: account.id, idempotencyKey: `fund-${account.id}`, amount: eur(minor) })
      return account.id
    },
  }
}
