import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StageTraceFile, type StageTraceEntry } from '../src/pipeline/stage-trace.js'

const entry = (key: string): StageTraceEntry => ({ key, edgeAt: 1_000, startedAt: 1_010.5, stages: { 'verify-card': 4.2, respond: 0.3 }, answeredAt: 1_020.25 })

t.test('lines are buffered, appended as JSON lines on flush, and the rest written on close', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-stage-trace-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'trace.jsonl')
  const trace = new StageTraceFile(path, 60_000)
  trace.record(entry('visa:400050:1122024000:000100'))
  trace.record(entry('visa:400050:1122024000:000101'))
  await trace.flush()
  const first = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StageTraceEntry)
  t.same(first.map((e) => e.key), ['visa:400050:1122024000:000100', 'visa:400050:1122024000:000101'])
  t.same(first[0], entry('visa:400050:1122024000:000100'))
  t.equal(statSync(path).mode & 0o777, 0o600, 'owner-only file')
  trace.record(entry('visa:400050:1122024000:000102'))
  await trace.close()
  t.equal(readFileSync(path, 'utf8').trim().split('\n').length, 3, 'close writes what was still buffered')
  t.equal(trace.dropped, 0)
})

t.test('a failed write drops that batch and is counted, never thrown', async (t) => {
  const trace = new StageTraceFile(join(tmpdir(), 'cp-no-such-dir', 'x', 'trace.jsonl'), 60_000)
  trace.record(entry('visa:1:2:3'))
  trace.record(entry('visa:1:2:4'))
  await trace.close()
  t.equal(trace.dropped, 2)
})
