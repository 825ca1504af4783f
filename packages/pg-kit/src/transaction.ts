/**
 * Transactions for hot paths, on a pool opened with `pipeline: true` (node-postgres pipeline mode).
 *
 * A drizzle (or plain pg) transaction costs a round trip per statement: `BEGIN`, each statement, `COMMIT`.
 * Each round trip is a socket write by the client, a read and a write by the backend and two wake-ups, and
 * on this platform that costs about as much CPU as the statements themselves. In pipeline mode pg sends a
 * query without waiting for the previous answer; {@link PipelinedTransaction.run} writes `BEGIN` with the
 * first statements and {@link PipelinedTransaction.commit} writes `COMMIT` with the last ones, each batch
 * in one socket write. Every statement still runs on its own, in order, with its own snapshot (READ
 * COMMITTED): a statement after a `SELECT ... FOR UPDATE` that waited for a lock sees what the previous
 * lock holder committed, exactly as if it had been sent after the lock statement's answer.
 *
 * Errors: each pipelined statement is synced on its own, so a failing statement fails its batch and the
 * transaction is rolled back (statements queued behind it fail with "current transaction is aborted" and
 * change nothing). A connection that cannot roll back is destroyed instead of returned to the pool.
 */
import type pg from 'pg'

/** One statement: SQL text with `$n` placeholders and its values. */
export interface Statement {
  text: string
  values?: readonly unknown[]
}

/** What the work function of {@link pipelinedTransaction} gets. */
export interface PipelinedTransaction {
  /** Run statements in this transaction (the first call also sends `BEGIN`), written at once; results in order. */
  run(...statements: Statement[]): Promise<pg.QueryResult[]>
  /**
   * Run the last statements and `COMMIT` in one write; nothing may run after it. Called before any
   * `run`, several statements go out as `BEGIN`, statements, `COMMIT` (one statement alone is atomic).
   */
  commit(...statements: Statement[]): Promise<pg.QueryResult[]>
}

type PipelineClient = pg.PoolClient & { pipeline?: boolean; connection?: { stream?: { cork?: () => void; uncork?: () => void } } }

class Tx implements PipelinedTransaction {
  begun = false
  done = false

  constructor(private readonly client: PipelineClient) {}

  /** Issue every query before awaiting any, inside one cork: pg writes them in one writev. */
  private async send(texts: (Statement | string)[]): Promise<pg.QueryResult[]> {
    const stream = this.client.connection?.stream
    stream?.cork?.()
    let pending: Promise<pg.QueryResult>[]
    try {
      pending = texts.map((s) =>
        typeof s === 'string'
          ? this.client.query(s)
          : this.client.query({ text: s.text, values: s.values as unknown[] | undefined }),
      )
    } finally {
      stream?.uncork?.()
    }
    const settled = await Promise.allSettled(pending)
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed) throw failed.reason
    return settled.map((s) => (s as PromiseFulfilledResult<pg.QueryResult>).value)
  }

  async run(...statements: Statement[]): Promise<pg.QueryResult[]> {
    if (this.done) throw new Error('transaction already committed')
    if (this.begun) return this.send(statements)
    this.begun = true
    return (await this.send(['BEGIN', ...statements])).slice(1)
  }

  async commit(...statements: Statement[]): Promise<pg.QueryResult[]> {
    if (this.done) throw new Error('transaction already committed')
    this.done = true
    // Nothing ran yet: one statement is atomic on its own; several need the BEGIN they have not had.
    if (!this.begun && statements.length <= 1) return this.send(statements)
    const lead = this.begun ? 0 : 1
    this.begun = true
    const sent: (Statement | string)[] = lead ? ['BEGIN', ...statements, 'COMMIT'] : [...statements, 'COMMIT']
    return (await this.send(sent)).slice(lead, lead + statements.length)
  }
}

/**
 * Run `work` in one transaction on one pooled connection; commits after `work` unless it committed
 * itself with {@link PipelinedTransaction.commit} (the usual case: its last statements ride with `COMMIT`).
 * If `work` throws, the transaction is rolled back and the error rethrown.
 */
export async function pipelinedTransaction<T>(pool: pg.Pool, work: (tx: PipelinedTransaction) => Promise<T>): Promise<T> {
  const client = (await pool.connect()) as PipelineClient
  if (client.pipeline !== true) {
    client.release()
    throw new Error('pipelinedTransaction needs a pool opened with pipeline: true')
  }
  const tx = new Tx(client)
  let value: T
  try {
    value = await work(tx)
    if (!tx.done) await tx.commit()
  } catch (err) {
    let broken: Error | undefined
    if (tx.begun) {
      // Also after a failed COMMIT batch: a ROLLBACK outside a transaction is only a warning.
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e))
      })
    }
    client.release(broken)
    throw err
  }
  client.release()
  return value
}
