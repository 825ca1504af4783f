/**
 * Leak scanner: looks for card data where it must not be. Sources: every table of the given
 * PostgreSQL databases (main-cluster databases completely; CDE databases except their declared
 * ciphertext columns), Redis keys and values, and log files. Looks for:
 * - the given PANs (exact digit strings),
 * - any Luhn-valid 13–19 digit run that starts like a card number (2–6) and is not the fraction of a
 *   decimal (`541.9571759999999` is a duration, not a card),
 * - the given CVV2 values where they appear as a CVV/CVC/security-code field (a bare 3-digit number is
 *   everywhere, so only labelled values count),
 * - the given PIN blocks (hex, any case).
 * Findings carry the location and a masked value only.
 */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { luhnValid, maskPan } from '@cardplane/service-kit'

/** A database to scan. */
export interface ScanDatabase {
  url: string
  /** `main`: every column. `cde`: every column except `ciphertextColumns`. */
  zone: 'main' | 'cde'
  /** `table.column` names holding ciphertext only (CDE). */
  ciphertextColumns?: readonly string[]
}

/** What to scan and what for. */
export interface LeakScanOptions {
  pans: readonly string[]
  cvv2s?: readonly string[]
  pinBlocks?: readonly string[]
  /**
   * Clear PINs, searched as stand-alone digit runs. Use long, unlikely PINs in tests (8-12 digits): a
   * four-digit PIN occurs in any log by chance.
   */
  pins?: readonly string[]
  databases?: readonly ScanDatabase[]
  redis?: { url: string; pattern?: string }[]
  /** Files or directories (every regular file inside, recursively). */
  logs?: readonly string[]
  /** Also report Luhn-valid digit runs that are not in `pans` (default true). */
  luhnRuns?: boolean
}

/** One thing found where it should not be. */
export interface LeakFinding {
  source: 'postgres' | 'redis' | 'log'
  /** `db/table.column`, `redis/<key>`, `file:line`. */
  location: string
  kind: 'pan' | 'pan_like' | 'cvv2' | 'pin_block' | 'pin'
  /** Masked value (first 6 / last 4 for PANs, `***` for CVV2 and PINs, first/last 2 for PIN blocks). */
  masked: string
}

/** Scan result. */
export interface LeakReport {
  findings: LeakFinding[]
  scanned: { tables: number; rows: number; redisKeys: number; logFiles: number; logLines: number }
}

// A generic PAN-like run must stand alone: digits inside a hex digest or an alphanumeric id are not a card
// number (the given PANs are still searched everywhere, embedded or not).
const RUN = /(?<![\dA-Za-z.])[2-6]\d{12,18}(?![\dA-Za-z])/g
const CVV_LABEL = /(?:cvv2?|cvc2?|cid|csc|security[ _-]?code)["'\s]*[:=]\s*["']?(\d{3,4})(?!\d)/gi

/** Search one text; push findings. */
export function scanText(text: string, location: string, source: LeakFinding['source'], opts: LeakScanOptions, out: LeakFinding[]): void {
  if (!text) return
  const pans = new Set(opts.pans)
  for (const pan of opts.pans) {
    if (text.includes(pan)) out.push({ source, location, kind: 'pan', masked: maskPan(pan) })
  }
  if (opts.luhnRuns !== false && /\d{13}/.test(text)) {
    for (const m of text.matchAll(RUN)) {
      const run = m[0]
      if (pans.has(run)) continue
      if (luhnValid(run)) out.push({ source, location, kind: 'pan_like', masked: maskPan(run) })
    }
  }
  if (opts.cvv2s?.length) {
    const cvv2s = new Set(opts.cvv2s)
    for (const m of text.matchAll(CVV_LABEL)) {
      if (cvv2s.has(m[1]!)) out.push({ source, location, kind: 'cvv2', masked: '***' })
    }
  }
  if (opts.pinBlocks?.length) {
    const upper = text.toUpperCase()
    for (const b of opts.pinBlocks) {
      if (upper.includes(b.toUpperCase())) out.push({ source, location, kind: 'pin_block', masked: `${b.slice(0, 2)}…${b.slice(-2)}` })
    }
  }
  for (const pin of opts.pins ?? []) {
    if (!text.includes(pin)) continue
    if (new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`).test(text)) out.push({ source, location, kind: 'pin', masked: '***' })
  }
}

async function scanDatabase(db: ScanDatabase, opts: LeakScanOptions, report: LeakReport): Promise<void> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  const name = db.url.split('/').pop()?.split('?')[0] ?? 'db'
  try {
    const cols = await client.query<{ table_schema: string; table_name: string; column_name: string; data_type: string }>(
      `SELECT c.table_schema, c.table_name, c.column_name, c.data_type FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
       ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
    )
    const tables = new Map<string, { schema: string; table: string; columns: { name: string; type: string }[] }>()
    for (const c of cols.rows) {
      const key = `${c.table_schema}.${c.table_name}`
      const skip = db.zone === 'cde' && (db.ciphertextColumns ?? []).includes(`${c.table_name}.${c.column_name}`)
      if (skip) continue
      let t = tables.get(key)
      if (!t) {
        t = { schema: c.table_schema, table: c.table_name, columns: [] }
        tables.set(key, t)
      }
      t.columns.push({ name: c.column_name, type: c.data_type })
    }
    for (const t of tables.values()) {
      report.scanned.tables++
      if (t.columns.length === 0) continue
      const q = (s: string) => `"${s.replace(/"/g, '""')}"`
      // bytea as escaped text: a PAN stored as raw bytes shows up as its digits.
      const select = t.columns.map((c) => (c.type === 'bytea' ? `encode(${q(c.name)}, 'escape')` : `${q(c.name)}::text`)).join(', ')
      const rows = await client.query({ text: `SELECT ${select} FROM ${q(t.schema)}.${q(t.table)}`, rowMode: 'array' })
      for (const row of rows.rows as (string | null)[][]) {
        report.scanned.rows++
        row.forEach((v, i) => {
          if (v !== null) scanText(v, `${name}/${t.table}.${t.columns[i]!.name}`, 'postgres', opts, report.findings)
        })
      }
    }
  } finally {
    await client.end()
  }
}

async function scanRedis(r: { url: string; pattern?: string }, opts: LeakScanOptions, report: LeakReport): Promise<void> {
  const redis = new Redis(r.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', r.pattern ?? '*', 'COUNT', 500)
      cursor = next
      for (const key of keys) {
        report.scanned.redisKeys++
        const loc = `redis/${key}`
        scanText(key, loc, 'redis', opts, report.findings)
        const type = await redis.type(key)
        let values: string[] = []
        if (type === 'string') values = [(await redis.get(key)) ?? '']
        else if (type === 'hash') values = Object.entries(await redis.hgetall(key)).flat()
        else if (type === 'list') values = await redis.lrange(key, 0, -1)
        else if (type === 'set') values = await redis.smembers(key)
        else if (type === 'zset') values = await redis.zrange(key, 0, -1)
        else if (type === 'stream') values = (await redis.xrange(key, '-', '+', 'COUNT', 10_000)).map((e) => JSON.stringify(e))
        for (const v of values) scanText(v, loc, 'redis', opts, report.findings)
      }
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

async function files(path: string): Promise<string[]> {
  const s = await stat(path)
  if (s.isFile()) return [path]
  if (!s.isDirectory()) return []
  const out: string[] = []
  for (const e of await readdir(path)) out.push(...(await files(join(path, e))))
  return out
}

/** Run the scan. Nothing found: `findings` is empty. */
export async function leakScan(opts: LeakScanOptions): Promise<LeakReport> {
  const report: LeakReport = { findings: [], scanned: { tables: 0, rows: 0, redisKeys: 0, logFiles: 0, logLines: 0 } }
  for (const db of opts.databases ?? []) await scanDatabase(db, opts, report)
  for (const r of opts.redis ?? []) await scanRedis(r, opts, report)
  for (const p of opts.logs ?? []) {
    for (const f of await files(p)) {
      report.scanned.logFiles++
      const lines = (await readFile(f, 'latin1')).split('\n')
      lines.forEach((line, i) => {
        report.scanned.logLines++
        scanText(line, `${f}:${i + 1}`, 'log', opts, report.findings)
      })
    }
  }
  return report
}
