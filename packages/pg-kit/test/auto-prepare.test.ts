import t from 'tap'
import pg from 'pg'
import { createPool, statementName } from '../src/index.js'

const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Names of the statements prepared on the connection running this query. */
async function preparedOn(client: pg.PoolClient): Promise<string[]> {
  const r = await client.query<{ name: string }>('select name from pg_prepared_statements order by name')
  return r.rows.map((x) => x.name)
}

t.test('parameterised queries are prepared once per connection and reused', async (t) => {
  const pool = createPool({ connectionString: URL, max: 1 })
  t.teardown(() => pool.end())
  const client = await pool.connect()
  try {
    const text = 'select $1::int + $2::int as sum'
    for (let i = 0; i < 5; i++) {
      const r = await client.query<{ sum: number }>(text, [i, 1])
      t.equal(r.rows[0]!.sum, i + 1)
    }
    // Object form, as drizzle-orm sends it (values beside the config).
    const viaConfig = await client.query({ text, values: [2, 3] })
    t.equal(viaConfig.rows[0].sum, 5)
    t.same(await preparedOn(client), [statementName(text)], 'one server-side statement for six executions')
  } finally {
    client.release()
  }
})

t.test('queries without parameters and queries with their own name are left alone', async (t) => {
  const pool = createPool({ connectionString: URL, max: 1 })
  t.teardown(() => pool.end())
  const client = await pool.connect()
  try {
    await client.query('begin')
    await client.query('select 1')
    await client.query({ name: 'mine', text: 'select $1::text as x', values: ['a'] })
    await client.query('commit')
    t.same(await preparedOn(client), ['mine'])
  } finally {
    client.release()
  }
})

t.test('the cap bounds prepared statements per connection; later texts still run, unnamed', async (t) => {
  const pool = createPool({ connectionString: URL, max: 1, maxPrepared: 3 })
  t.teardown(() => pool.end())
  const client = await pool.connect()
  try {
    for (let i = 0; i < 6; i++) {
      const r = await client.query<{ v: number }>(`select $1::int * ${i + 1} as v`, [2])
      t.equal(r.rows[0]!.v, 2 * (i + 1))
    }
    t.equal((await preparedOn(client)).length, 3)
    // A prepared text keeps being reused after the cap was reached.
    t.equal((await client.query<{ v: number }>('select $1::int * 1 as v', [7])).rows[0]!.v, 7)
    t.equal((await preparedOn(client)).length, 3)
  } finally {
    client.release()
  }
})

t.test('errors reach the caller with PostgreSQL error fields; the connection stays usable', async (t) => {
  const pool = createPool({ connectionString: URL, max: 1 })
  t.teardown(() => pool.end())
  await t.rejects(pool.query('select $1::int / 0 as boom', [1]), { code: '22012' })
  t.equal((await pool.query<{ ok: number }>('select $1::int as ok', [1])).rows[0]!.ok, 1)
  // Callback form still works.
  const viaCallback = await new Promise<number>((resolve, reject) =>
    pool.query('select $1::int as n', [9], (err: Error | undefined, res: pg.QueryResult<{ n: number }>) => (err ? reject(err) : resolve(res.rows[0]!.n))),
  )
  t.equal(viaCallback, 9)
})

t.test('a different text never reuses another text’s name', async (t) => {
  t.not(statementName('select $1'), statementName('select $1 '))
  t.match(statementName('select 1'), /^cp_[A-Za-z0-9_-]{24}$/)
})
