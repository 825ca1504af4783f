/**
 * `pnpm exec tsx tools/leak-scan/src/main.ts --pans <file> [--cvv2 <file>] [--pin-blocks <file>]
 *   [--db <url>]... [--cde-db <url> --ciphertext <table.column,...>]... [--redis <url> [--redis-pattern <glob>]]...
 *   [--log <file|dir>]... [--no-luhn-runs] [--json]`
 * Value files hold one value per line. Exit code: 0 clean, 1 findings, 2 usage error.
 */
import { readFileSync } from 'node:fs'
import { leakScan, type LeakScanOptions, type ScanDatabase } from './scan.js'

function values(file: string): string[] {
  return readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
}

/** Parse argv into scan options (exported for tests). */
export function parseArgs(argv: string[]): LeakScanOptions & { json: boolean } {
  const opts: LeakScanOptions & { json: boolean } = { pans: [], json: false, databases: [], redis: [], logs: [] }
  const dbs = opts.databases as ScanDatabase[]
  const redis = opts.redis as { url: string; pattern?: string }[]
  const logs = opts.logs as string[]
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const next = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    switch (a) {
      case '--pans':
        opts.pans = values(next())
        break
      case '--cvv2':
        opts.cvv2s = values(next())
        break
      case '--pin-blocks':
        opts.pinBlocks = values(next())
        break
      case '--db':
        dbs.push({ url: next(), zone: 'main' })
        break
      case '--cde-db':
        dbs.push({ url: next(), zone: 'cde', ciphertextColumns: [] })
        break
      case '--ciphertext': {
        const last = dbs.at(-1)
        if (!last || last.zone !== 'cde') throw new Error('--ciphertext follows a --cde-db')
        last.ciphertextColumns = next().split(',').map((s) => s.trim()).filter(Boolean)
        break
      }
      case '--redis':
        redis.push({ url: next() })
        break
      case '--redis-pattern': {
        const last = redis.at(-1)
        if (!last) throw new Error('--redis-pattern follows a --redis')
        last.pattern = next()
        break
      }
      case '--log':
        logs.push(next())
        break
      case '--no-luhn-runs':
        opts.luhnRuns = false
        break
      case '--json':
        opts.json = true
        break
      default:
        throw new Error(`unknown option ${a}`)
    }
  }
  return opts
}

async function main(): Promise<number> {
  let opts
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (err) {
    console.error((err as Error).message)
    return 2
  }
  const report = await leakScan(opts)
  if (opts.json) console.log(JSON.stringify(report, null, 2))
  else {
    for (const f of report.findings) console.log(`${f.kind}\t${f.source}\t${f.location}\t${f.masked}`)
    const s = report.scanned
    console.log(`scanned ${s.tables} tables / ${s.rows} rows, ${s.redisKeys} Redis keys, ${s.logFiles} files / ${s.logLines} lines: ${report.findings.length} finding(s)`)
  }
  return report.findings.length === 0 ? 0 : 1
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err))
      process.exitCode = 2
    },
  )
}
