import { createHash } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import type { Pool, PoolClient } from 'pg'
import { AuditFailureError, KeyvaultError } from './errors.js'

/**
 * Append-only, hash-chained audit log with group commit. Every request and every response becomes a
 * row; `record()` resolves only after the row's INSERT has committed (durable), and rejects if it could
 * not be written, so callers answer 500 and do nothing. Rows that arrive while a commit is in flight are
 * batched into the next single multi-row INSERT: one fsync covers many requests, which is what lets
 * the service keep "no response before its audit record is durable" at thousands of requests a second.
 *
 * The chain: `hash = sha256(prev_hash ‖ seq ‖ time ‖ kind ‖ request_id ‖ entry)`, seq contiguous from 1.
 * One process writes the chain: it holds a PostgreSQL advisory lock for its lifetime (Vault's "active
 * node"), and hashes are computed at flush time so a failed batch never leaves a gap or a fork.
 * A JSON-lines copy goes to a file after each commit.
 */

export const GENESIS_HASH = '0'.repeat(64)
const LOCK_KEY = 8_200_004

/** One audit row before it is chained. */
export interface AuditRecord {
  /** `exchange`: request and response of a pure call in one row (see Core.handle). */
  kind: 'request' | 'response' | 'exchange'
  requestId: string
  /** Already redacted entry object. */
  entry: Record<string, unknown>
}

interface Pending extends AuditRecord {
  time: string
  resolve: () => void
  reject: (err: unknown) => void
  /** Set at flush: the serialised entry and the chain links it was committed with. */
  entryText?: string
  prevHash?: string
  hash?: string
}

/** One multi-row INSERT from the RS/US-separated batch text built by flush(). */
const INSERT_BATCH = `INSERT INTO audit_log (seq, time, kind, request_id, entry, prev_hash, hash)
  SELECT a[1]::bigint, a[2]::timestamptz, a[3], a[4], a[5], a[6], a[7]
  FROM (SELECT string_to_array(r, E'\\x1f') AS a FROM string_to_table($1::text, E'\\x1e') AS r) AS rows`

/**
 * Request ids come from callers (`x-request-id`): control characters (which PostgreSQL text cannot
 * hold, NUL, or which would split the batch text) and lone surrogates (which UTF-8 cannot carry, so
 * the stored id would differ from the hashed one) become U+FFFD before the id is hashed and stored.
 */
export function cleanRequestId(id: string): string {
  return UNSAFE_ID.test(id) ? id.replace(UNSAFE_ID_ALL, '\ufffd') : id
}
const UNSAFE_ID = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const UNSAFE_ID_ALL = new RegExp(UNSAFE_ID.source, 'g')

/** Chain hash of one row. */
export function chainHash(prevHash: string, seq: bigint | string, time: string, kind: string, requestId: string, entry: string): string {
  return createHash('sha256').update(`${prevHash}\n${seq}\n${time}\n${kind}\n${requestId}\n${entry}`).digest('hex')
}

export interface AuditLogOptions {
  /** JSON-lines copy; omitted → database only. */
  filePath?: string
  /** Upper bound on rows per INSERT. */
  maxBatch?: number
}

export class AuditLog {
  private queue: Pending[] = []
  private flushing = false
  private headSeq = 0n
  private headHash = GENESIS_HASH
  private lockClient: PoolClient | undefined
  private file: WriteStream | undefined
  private closed = false
  private readonly maxBatch: number
  /** Batches committed and rows written, for the benchmark and metrics. */
  readonly stats = { batches: 0, rows: 0 }

  constructor(private readonly pool: Pool, private readonly opts: AuditLogOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 1000
  }

  /** Take the single-writer lock and find the chain head. */
  async start(): Promise<void> {
    const c = await this.pool.connect()
    const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCK_KEY])
    if (!r.rows[0]?.ok) {
      c.release()
      throw new KeyvaultError('audit_writer_busy', 500, 'another key service process holds the audit writer lock')
    }
    this.lockClient = c
    await this.reloadHead()
    if (this.opts.filePath) this.file = createWriteStream(this.opts.filePath, { flags: 'a', mode: 0o600 })
  }

  private async reloadHead(): Promise<void> {
    const r = await this.pool.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_log ORDER BY audit_log.seq DESC LIMIT 1')
    const row = r.rows[0]
    this.headSeq = row ? BigInt(row.seq) : 0n
    this.headHash = row ? row.hash : GENESIS_HASH
  }

  /** Resolves once the row is committed; rejects with AuditFailureError otherwise. */
  record(rec: AuditRecord): Promise<void> {
    if (this.closed) return Promise.reject(new AuditFailureError(new Error('audit log closed')))
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: rec.kind, requestId: cleanRequestId(rec.requestId), entry: rec.entry, time: new Date().toISOString(), resolve, reject })
      if (!this.flushing) {
        this.flushing = true
        // Let the rest of this event-loop turn enqueue too, then commit them together.
        setImmediate(() => void this.flushLoop())
      }
    })
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch)
        await this.flush(batch)
      }
    } finally {
      this.flushing = false
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    // The batch travels as ONE text parameter: rows separated by RS (U+001E), fields by US (U+001F).
    // Neither can occur in a field: entries are JSON.stringify output (which escapes every control
    // character), times, kinds and hashes are ours, and request ids are cleaned in record(). This
    // spares the per-element escaping of seven text[] array literals. The text is written straight
    // into one Buffer (sent as the parameter's binary form, which for text is its UTF-8 bytes): no
    // per-row strings to concatenate and no second UTF-8 encoding of the whole batch by the driver.
    let seq = this.headSeq
    let prev = this.headHash
    let size = 0
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending
      const entry = JSON.stringify(p.entry)
      p.entryText = entry
      // UTF-8 takes at most 3 bytes per UTF-16 unit; seq, time, kind, hashes and separators fit in 256.
      size += 3 * (entry.length + p.requestId.length) + 256
    }
    const text = Buffer.allocUnsafe(size)
    let o = 0
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending
      seq += 1n
      const entry = p.entryText as string
      const hash = chainHash(prev, seq, p.time, p.kind, p.requestId, entry)
      if (i > 0) text[o++] = 0x1e
      o += text.write(seq.toString(), o, 'latin1')
      text[o++] = 0x1f
      o += text.write(p.time, o, 'latin1')
      text[o++] = 0x1f
      o += text.write(p.kind, o, 'latin1')
      text[o++] = 0x1f
      o += text.write(p.requestId, o, 'utf8')
      text[o++] = 0x1f
      o += text.write(entry, o, 'utf8')
      text[o++] = 0x1f
      o += text.write(prev, o, 'latin1')
      text[o++] = 0x1f
      o += text.write(hash, o, 'latin1')
      p.prevHash = prev
      p.hash = hash
      prev = hash
    }
    try {
      await this.pool.query({ name: 'keyvault_audit_insert', text: INSERT_BATCH, values: [text.subarray(0, o)] })
    } catch (err) {
      const failure = new AuditFailureError(err)
      for (const p of batch) p.reject(failure)
      // The outcome may be ambiguous (connection lost after commit): resynchronise from the table.
      await this.reloadHead().catch(() => undefined)
      return
    }
    const firstSeq = this.headSeq
    this.headSeq = seq
    this.headHash = prev
    this.stats.batches += 1
    this.stats.rows += batch.length
    if (this.file) {
      let lines = ''
      let n = firstSeq
      for (const p of batch) {
        n += 1n
        lines += `{"seq":${n},"time":"${p.time}","kind":"${p.kind}","request_id":${JSON.stringify(p.requestId)},"entry":${p.entryText},"prev_hash":"${p.prevHash}","hash":"${p.hash}"}\n`
      }
      this.file.write(lines)
    }
    for (const p of batch) p.resolve()
  }

  /** Wait for queued rows, release the writer lock, close the file. */
  async close(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5))
    this.closed = true
    if (this.lockClient) {
      await this.lockClient.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined)
      this.lockClient.release()
      this.lockClient = undefined
    }
    const f = this.file
    this.file = undefined
    if (f) await new Promise<void>((r) => f.end(() => r()))
  }
}

/** One problem the verifier found. */
export interface AuditProblem {
  seq: string
  problem: 'gap' | 'prev_hash_mismatch' | 'hash_mismatch'
}

/** Result of `verifyAuditLog`. */
export interface AuditVerification {
  ok: boolean
  rows: number
  lastSeq: string
  lastHash: string
  problems: AuditProblem[]
}

/**
 * Walk the chain from seq 1: a modified row breaks its own hash, a deleted row leaves a gap in seq
 * and a prev_hash that no longer matches, a re-chained forgery cannot be produced without rewriting
 * every later row (and the JSON-lines copy, which `expectHead` compares against).
 */
export async function verifyAuditLog(pool: Pool, expectHead?: { seq: string; hash: string }): Promise<AuditVerification> {
  const problems: AuditProblem[] = []
  let expectedSeq = 1n
  let prev = GENESIS_HASH
  let rows = 0
  let lastSeq = '0'
  for (;;) {
    const r = await pool.query<{ seq: string; time: string; kind: string; request_id: string; entry: string; prev_hash: string; hash: string }>(
      `SELECT seq::text AS seq, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time, kind, request_id, entry, prev_hash, hash
       FROM audit_log WHERE audit_log.seq > $1::bigint ORDER BY audit_log.seq LIMIT 5000`,
      [lastSeq],
    )
    if (r.rows.length === 0) break
    for (const row of r.rows) {
      rows++
      const seq = BigInt(row.seq)
      if (seq !== expectedSeq) problems.push({ seq: row.seq, problem: 'gap' })
      if (row.prev_hash !== prev) problems.push({ seq: row.seq, problem: 'prev_hash_mismatch' })
      if (chainHash(row.prev_hash, seq, row.time, row.kind, row.request_id, row.entry) !== row.hash) {
        problems.push({ seq: row.seq, problem: 'hash_mismatch' })
      }
      prev = row.hash
      expectedSeq = seq + 1n
      lastSeq = row.seq
    }
  }
  if (expectHead && (expectHead.seq !== lastSeq || expectHead.hash !== prev)) {
    problems.push({ seq: expectHead.seq, problem: 'gap' })
  }
  return { ok: problems.length === 0, rows, lastSeq, lastHash: prev, problems }
}

/**
 * Walk the JSON-lines copy on its own (no database): the same chain rules as `verifyAuditLog`. The
 * entry is embedded as JSON and re-serialised here; JSON.stringify of a parsed JSON.stringify output
 * is the same text, so the hash is recomputed over exactly what was committed.
 */
export function verifyAuditLines(text: string): AuditVerification {
  const problems: AuditProblem[] = []
  let expectedSeq = 1n
  let prev = GENESIS_HASH
  let rows = 0
  let lastSeq = '0'
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    rows++
    let row: { seq: number; time: string; kind: string; request_id: string; entry: unknown; prev_hash: string; hash: string }
    try {
      row = JSON.parse(line) as typeof row
    } catch {
      problems.push({ seq: String(expectedSeq), problem: 'hash_mismatch' })
      continue
    }
    const seq = BigInt(row.seq)
    if (seq !== expectedSeq) problems.push({ seq: String(seq), problem: 'gap' })
    if (row.prev_hash !== prev) problems.push({ seq: String(seq), problem: 'prev_hash_mismatch' })
    if (chainHash(row.prev_hash, seq, row.time, row.kind, row.request_id, JSON.stringify(row.entry)) !== row.hash) {
      problems.push({ seq: String(seq), problem: 'hash_mismatch' })
    }
    prev = row.hash
    expectedSeq = seq + 1n
    lastSeq = String(seq)
  }
  return { ok: problems.length === 0, rows, lastSeq, lastHash: prev, problems }
}
