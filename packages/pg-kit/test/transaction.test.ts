import t from 'tap'
import { createPool, pipelinedTransaction } from '../src/index.js'

const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

t.test('pipelined transaction: BEGIN rides with the first statements, COMMIT with the last', async (t) => {
  const pool = createPool({ connectionString: URL, max: 2, pipeline: true })
  t.teardown(() => pool.end())
  const table = `pk_tx_${process.pid}_${Date.now()}`
  await pool.query(`create table ${table} (id int primary key, v text not null)`)
  t.teardown(() => pool.query(`drop table if exists ${table}`))

  const [status, inserted] = await pipelinedTransaction(pool, async (tx) => {
    const [s] = await tx.run({ text: 'select now() = statement_timestamp() as single, $1::int as x', values: [1] })
    const r = await tx.commit({ text: `insert into ${table} (id, v) values ($1, $2) returning id`, values: [1, 'a'] })
    return [s!.rows[0], r[0]!.rows[0]]
  })
  t.same(inserted, { id: 1 })
  t.equal(status.x, 1)
  t.equal(status.single, false, 'the statements ran inside a transaction (now() is the transaction start)')
  t.same((await pool.query(`select id, v from ${table}`)).rows, [{ id: 1, v: 'a' }])

  // A statement that fails rolls the whole transaction back; the connection stays usable.
  await t.rejects(
    pipelinedTransaction(pool, async (tx) => {
      await tx.run({ text: `insert into ${table} (id, v) values ($1, $2)`, values: [2, 'b'] })
      await tx.commit({ text: `insert into ${table} (id, v) values ($1, $2)`, values: [1, 'dup'] })
    }),
    { code: '23505' },
  )
  t.same((await pool.query(`select id from ${table} order by id`)).rows, [{ id: 1 }], 'nothing of the failed transaction stays')

  // An error thrown by the work itself also rolls back.
  await t.rejects(
    pipelinedTransaction(pool, async (tx) => {
      await tx.run({ text: `insert into ${table} (id, v) values ($1, $2)`, values: [3, 'c'] })
      throw new Error('changed my mind')
    }),
    /changed my mind/,
  )
  t.same((await pool.query(`select count(*)::int as n from ${table}`)).rows, [{ n: 1 }])

  // Work that never calls commit is committed after it returns.
  await pipelinedTransaction(pool, async (tx) => {
    await tx.run({ text: `insert into ${table} (id, v) values ($1, $2)`, values: [4, 'd'] })
  })
  t.same((await pool.query(`select id from ${table} order by id`)).rows, [{ id: 1 }, { id: 4 }])
  const idle = await pool.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where state = 'idle in transaction' and query like '%${table}%'`)
  t.equal(idle.rows[0]!.n, 0, 'no connection left inside a transaction')
})

t.test('commit without a prior run: several statements stay one transaction', async (t) => {
  const pool = createPool({ connectionString: URL, max: 1, pipeline: true })
  t.teardown(() => pool.end())
  const table = `pk_once_${process.pid}_${Date.now()}`
  await pool.query(`create table ${table} (id int primary key)`)
  t.teardown(() => pool.query(`drop table if exists ${table}`))
  await t.rejects(
    pipelinedTransaction(pool, async (tx) => {
      await tx.commit({ text: `insert into ${table} (id) values ($1)`, values: [1] }, { text: `insert into ${table} (id) values ($1)`, values: [1] })
    }),
    { code: '23505' },
  )
  t.same((await pool.query(`select id from ${table}`)).rows, [], 'the first insert was rolled back with the second')
  const [a, b] = await pipelinedTransaction(pool, (tx) =>
    tx.commit({ text: `insert into ${table} (id) values ($1) returning id`, values: [2] }, { text: `insert into ${table} (id) values ($1) returning id`, values: [3] }),
  )
  t.same([a!.rows, b!.rows], [[{ id: 2 }], [{ id: 3 }]], 'results of the statements, not of BEGIN/COMMIT')
})

t.test('a statement after a lock wait sees what the lock holder committed', async (t) => {
  const pool = createPool({ connectionString: URL, max: 3, pipeline: true })
  t.teardown(() => pool.end())
  const table = `pk_lock_${process.pid}_${Date.now()}`
  await pool.query(`create table ${table} (id int primary key, n int not null)`)
  t.teardown(() => pool.query(`drop table if exists ${table}`))
  await pool.query(`insert into ${table} values (1, 0)`)
  const holder = await pool.connect()
  await holder.query('begin')
  await holder.query(`select * from ${table} where id = 1 for update`)
  const waiter = pipelinedTransaction(pool, async (tx) => {
    const [, seen] = await tx.run(
      { text: `select id from ${table} where id = $1 for update`, values: [1] },
      { text: `select n from ${table} where id = $1`, values: [1] },
    )
    return seen!.rows[0].n as number
  })
  await new Promise((r) => setTimeout(r, 100))
  await holder.query(`update ${table} set n = 5 where id = 1`)
  await holder.query('commit')
  holder.release()
  t.equal(await waiter, 5)
})

t.test('refuses a pool without pipeline mode', async (t) => {
  const pool = createPool({ connectionString: URL, max: 1 })
  t.teardown(() => pool.end())
  await t.rejects(pipelinedTransaction(pool, async () => 1), /pipeline: true/)
})
