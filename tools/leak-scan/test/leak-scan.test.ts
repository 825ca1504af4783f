import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { leakScan, scanText, type LeakFinding } from '../src/scan.js'
import { parseArgs } from '../src/main.js'

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres'
const PAN = '4539912000000008'
const OTHER = '5555555555554444'

t.test('text rules: given PANs, Luhn runs, labelled CVV2, PIN blocks; decimals and epochs are not cards', async (t) => {
  const out: LeakFinding[] = []
  const opts = { pans: [PAN], cvv2s: ['123'], pinBlocks: ['0412AC89ABCDEF67'] }
  scanText(`pan ${PAN}`, 'a', 'log', opts, out)
  scanText(`other ${OTHER}`, 'b', 'log', opts, out)
  scanText('{"cvv2":"123"}', 'c', 'log', opts, out)
  scanText('block 0412ac89abcdef67', 'd', 'log', opts, out)
  scanText('"responseTime":541.9571759999999,"time":1732243200004,"amount":123', 'e', 'log', opts, out)
  t.same(
    out.map((f) => [f.location, f.kind, f.masked]),
    [
      ['a', 'pan', '453991******0008'],
      ['b', 'pan_like', '555555******4444'],
      ['c', 'cvv2', '***'],
      ['d', 'pin_block', '04…67'],
    ],
  )
})

t.test('databases (main fully, CDE minus ciphertext columns), Redis and logs', async (t) => {
  const tag = `ls_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${tag}_main`)
  await admin.query(`CREATE DATABASE ${tag}_cde`)
  const dir = await mkdtemp(join(tmpdir(), 'ls-'))
  const redis = new Redis('redis://127.0.0.1:6379')
  t.teardown(async () => {
    await redis.del(`${tag}:k1`, `${tag}:h1`)
    redis.disconnect()
    await admin.query(`DROP DATABASE IF EXISTS ${tag}_main WITH (FORCE)`)
    await admin.query(`DROP DATABASE IF EXISTS ${tag}_cde WITH (FORCE)`)
    await admin.end()
    await rm(dir, { recursive: true, force: true })
  })
  const mainUrl = ADMIN.replace(/postgres$/, `${tag}_main`)
  const cdeUrl = ADMIN.replace(/postgres$/, `${tag}_cde`)
  const m = new pg.Client({ connectionString: mainUrl })
  await m.connect()
  await m.query('CREATE TABLE cards (card_id text, note text, raw bytea)')
  await m.query(`INSERT INTO cards VALUES ('card_1', 'clean', NULL), ('card_2', 'oops ${PAN}', NULL), ('card_3', 'x', convert_to('${OTHER}', 'UTF8'))`)
  await m.end()
  const c = new pg.Client({ connectionString: cdeUrl })
  await c.connect()
  await c.query('CREATE TABLE cards (card_id text, record bytea, last_four text)')
  await c.query(`INSERT INTO cards VALUES ('card_1', convert_to('${PAN}', 'UTF8'), '0008')`)
  await c.end()
  await redis.set(`${tag}:k1`, JSON.stringify({ pan: PAN }))
  await redis.hset(`${tag}:h1`, 'ok', 'nothing here')
  const log = join(dir, 'svc.log')
  await writeFile(log, `{"msg":"fine"}\n{"msg":"bad","cvv2":"987"}\n{"pin":"0412AC89ABCDEF67"}\n`)

  const report = await leakScan({
    pans: [PAN],
    cvv2s: ['987'],
    pinBlocks: ['0412AC89ABCDEF67'],
    databases: [
      { url: mainUrl, zone: 'main' },
      { url: cdeUrl, zone: 'cde', ciphertextColumns: ['cards.record'] },
    ],
    redis: [{ url: 'redis://127.0.0.1:6379', pattern: `${tag}:*` }],
    logs: [dir],
  })
  const got = report.findings.map((f) => `${f.source}|${f.location.replace(dir, '<dir>')}|${f.kind}`).sort()
  t.same(got, [
    `log|<dir>/svc.log:2|cvv2`,
    `log|<dir>/svc.log:3|pin_block`,
    `postgres|${tag}_main/cards.note|pan`,
    `postgres|${tag}_main/cards.raw|pan_like`,
    `redis|redis/${tag}:k1|pan`,
  ])
  t.equal(report.scanned.redisKeys, 2)
  const clean = await leakScan({ pans: [PAN], databases: [{ url: cdeUrl, zone: 'cde', ciphertextColumns: ['cards.record'] }] })
  t.same(clean.findings, [], 'the PAN inside a declared ciphertext column is not a finding')
  const noDecl = await leakScan({ pans: [PAN], databases: [{ url: cdeUrl, zone: 'cde' }] })
  t.equal(noDecl.findings.length, 1, 'the same column without the declaration is a finding')
})

t.test('command line parsing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ls-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'pans'), `${PAN}\n\n${OTHER}\n`)
  const o = parseArgs(['--pans', join(dir, 'pans'), '--db', 'postgres://a/b', '--cde-db', 'postgres://a/c', '--ciphertext', 'cards.record,data_keys.wrapped', '--redis', 'redis://x', '--redis-pattern', 'cp:*', '--log', dir, '--json'])
  t.same(o.pans, [PAN, OTHER])
  t.same(o.databases, [
    { url: 'postgres://a/b', zone: 'main' },
    { url: 'postgres://a/c', zone: 'cde', ciphertextColumns: ['cards.record', 'data_keys.wrapped'] },
  ])
  t.same(o.redis, [{ url: 'redis://x', pattern: 'cp:*' }])
  t.equal(o.json, true)
  t.throws(() => parseArgs(['--ciphertext', 'x.y']))
  t.throws(() => parseArgs(['--nope']))
})

t.test('text rules: clear PINs as stand-alone digit runs only', async (t) => {
  const out: LeakFinding[] = []
  const opts = { pans: [], luhnRuns: false, pins: ['73059148'] }
  scanText('{"pin":"73059148"}', 'a', 'log', opts, out)
  scanText('pin=73059148 set', 'b', 'log', opts, out)
  scanText('hmac-sha256:a73059148f and 1730591480', 'c', 'log', opts, out)
  scanText('nothing here', 'd', 'log', opts, out)
  t.same(out.map((f) => [f.location, f.kind, f.masked]), [['a', 'pin', '***'], ['b', 'pin', '***']])
})
