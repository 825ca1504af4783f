// CardStore against real PostgreSQL: the record rewrap's work list and its optimistic write.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '@cardplane/pg-kit/testing'
import { runMigrations } from '../src/db/migrate.js'
import { CardStore } from '../src/store/card-store.js'

let db: TestDatabase
let pool: pg.Pool
let store: CardStore
let seq = 0

t.before(async () => {
  db = await createTestDatabase('cv_store')
  pool = new pg.Pool({ connectionString: db.url, max: 2 })
  await runMigrations(pool)
  store = new CardStore(pool)
  // Data keys 1..10 (only their ids matter here) and the program the cards belong to.
  await pool.query(`INSERT INTO data_keys (purpose, kek_name, kek_version, wrapped, active) SELECT 'record', 'kek', 1, 'wrapped', false FROM generate_series(1, 10)`)
  await store.upsertProgram({ id: 'p', bin: '453991', panLength: 16, accountStart: '0', rangeSize: 1000n, validityMonths: 36, serviceCode: '201', pinTryLimit: 3, cvkName: 'cvk', pvkName: 'pvk', pvki: 1, imkAcName: null, arqcProfile: null })
})
t.teardown(async () => {
  await pool?.end()
  await db?.drop()
})

async function insert(dekId: number, record = randomBytes(64)): Promise<string> {
  const cardId = `card_store_${++seq}`
  t.ok(await store.insertCard({ cardId, programId: 'p', panHmac: randomBytes(32), indexKeyId: 1, lastFour: '0000', bin: '453991', pinSet: false, dekId, record, pinKeyVersion: null }))
  return cardId
}

t.test('a rewrap never overwrites a record written meanwhile under the same data key', async (t) => {
  const cardId = await insert(1)
  const readByRewrap = (await store.getCard(cardId))!
  // A PIN set seals a new record under the key that is still active for it (data key 1)...
  const pinSet = randomBytes(64)
  t.ok(await store.replaceRecord(cardId, readByRewrap, 1, pinSet, { pinSet: true, resetPin: true }), 'the PIN set is written')
  // ...and the rewrap, which read the row before, then tries to move its stale copy to key 2.
  t.notOk(await store.replaceRecord(cardId, readByRewrap, 2, randomBytes(64)), 'the stale rewrap is refused')
  const now = (await store.getCard(cardId))!
  t.ok(now.record.equals(pinSet), "the PIN set's record stands")
  t.equal(now.dekId, 1)
  t.equal(now.pinSet, true)
  t.ok(await store.replaceRecord(cardId, now, 2, randomBytes(64)), 'a rewrap of the fresh row goes through')
})

t.test("the work list is only the rows still to move, found through the data key's index", async (t) => {
  const old = [await insert(7), await insert(9)]
  await pool.query(
    `INSERT INTO cards (card_id, program_id, pan_hmac, index_key_id, last_four, bin, dek_id, record)
     SELECT 'bulk_' || g, 'p', sha256(('pan' || g)::bytea), 1, '0000', '453991', 8, sha256(('rec' || g)::bytea) FROM generate_series(1, 5000) g`,
  )
  await pool.query('ANALYZE cards')
  // The store's own statement, recorded on its way to the pool, is what gets explained below.
  const sent: { text: string; values: unknown[] }[] = []
  const recording = new CardStore({ query: (text: string, values: unknown[]) => (sent.push({ text, values }), pool.query(text, values)) } as unknown as pg.Pool)
  const list = await recording.cardsNotUnder(8, 100)
  t.same(list.map((c) => c.cardId).filter((id) => old.includes(id)).sort(), [...old].sort(), 'both rows under older keys')
  t.notOk(list.some((c) => c.dekId === 8), 'none under the active key')
  t.equal(sent.length, 1)
  const plan = (await pool.query(`EXPLAIN ${sent[0]!.text}`, sent[0]!.values)).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n')
  t.match(plan, /cards_dek_idx/, 'the index answers')
  t.notMatch(plan, /Seq Scan/, 'no scan over the rows already moved')
})
