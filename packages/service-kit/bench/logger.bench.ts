// Cost of the redaction layer: log lines per second through createLogger (redact paths + JSON-line
// scrubber) against plain pino with the same options minus redaction, into a null sink.
// Run: pnpm exec tsx bench/logger.bench.ts (writes bench/results.json).
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { createLogger, scrubPan } from '../src/index.js'

const sink = (): Writable =>
  new Writable({
    write(_c, _e, cb) {
      cb()
    },
  })
const N = 100_000

function rate(fn: (i: number) => void): number {
  for (let i = 0; i < 5_000; i++) fn(i) // warm-up
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) fn(i)
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  return Math.round(N / s)
}

const plain = pino({ level: 'info', timestamp: pino.stdTimeFunctions.isoTime }, sink())
const kit = createLogger({ name: 'bench', destination: sink() })
const req = { method: 'POST', url: '/v1/authorizations/7f9c2ba4-e88f-11ec-8ea0-0242ac120002', statusCode: 200 }
const withPan = { ...req, note: 'card 4111111111111111 declined', nested: { cvv2: '123' } }

const results = {
  machine: `${process.platform} ${process.arch}, node ${process.version}`,
  note: 'lines/s into a null sink; a shared 2-core machine under load, compare columns rather than absolutes',
  lines: N,
  plainPino_noPan: rate((i) => plain.info({ ...req, i }, 'request completed')),
  serviceKit_noPan: rate((i) => kit.info({ ...req, i }, 'request completed')),
  serviceKit_withPanAndCvv2: rate((i) => kit.info({ ...withPan, i }, 'request completed')),
  scrubPan_100charString: rate(() => scrubPan('authorisation for card 4111111111111111 at merchant 12345 on 2026-11-22T02:39:24Z ok')),
}
const out = join(dirname(fileURLToPath(import.meta.url)), 'results.json')
writeFileSync(out, `${JSON.stringify({ ...results, measuredAt: new Date().toISOString() }, null, 2)}\n`)
console.log(results)
