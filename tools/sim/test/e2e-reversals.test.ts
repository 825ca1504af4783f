// Reversals (0400/0420/0421) and Visa STIP advices (0120) end to end over TCP through every zone: the
// simulated Visa link → proxy-public → processor → card-vault (PAN → card ID) and → proxy-internal →
// authorizations → ledger. Every service is its own process; the ledger's balances are the evidence.
import t from 'tap'
import { Redis } from 'ioredis'
import pg from 'pg'
import { leakScan } from '@cardplane/tool-leak-scan'
import type { VisaMessage } from '@cardplane/visa'
import { reversalRequest, stipAdvice, type ReversalOptions } from '../src/card-messages.js'
import { runSim } from '../src/cli.js'
import { VisaLinkClient } from '../src/visa-link-client.js'
import { pendingJobs, startE2e, type E2e } from './e2e-harness.js'

const DEADLINE_MS = 1500
t.setTimeout(600_000)

let e: E2e
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')

t.before(async () => {
  e = await startE2e({ prefix: 'rev_e2e', deadlineMs: DEADLINE_MS, adviceRetryMs: 200 })
  // Warm-up: cold caches in every process (answers not asserted).
  const warm = await e.issueCard({ fund: 1000 })
  for (let i = 0; i < 2; i++) await e.link.send(e.auth(warm, { amountMinor: 1 }))
})

t.teardown(async () => {
  redis.disconnect()
  await e?.close()
})

function reverse(original: VisaMessage, o: Partial<ReversalOptions> = {}): VisaMessage {
  return reversalRequest(original, { stan: e.link.nextStan(), transmissionTime: VisaLinkClient.transmissionTime(), ...o })
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await read()
    if (ok(v)) return v
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function reversalRows(db: pg.Client, cardId: string): Promise<{ kind: string; status: string }[]> {
  const r = await db.query<{ kind: string; status: string }>(
    `SELECT r.kind, r.result->>'status' AS status FROM reversals r JOIN authorizations a ON a.authorization_id = r.original_authorization_id WHERE a.card_id = $1`,
    [cardId],
  )
  return r.rows
}

let db: pg.Client
t.before(async () => {
  db = new pg.Client({ connectionString: e.platform.databases.authorizations! })
  await db.connect()
})
t.teardown(() => db?.end())

t.test('approve, then 0400 full reversal → 0410 / 00 and the hold is released', async (t) => {
  const card = await e.issueCard({ fund: 10_000 })
  const auth = e.auth(card, { amountMinor: 2500 })
  t.equal((await e.link.send(auth)).message.fields['39'], '00')
  t.same(await e.available(card.accountId), { balance: 10_000, held: 2500, available: 7500 })
  const rev = reverse(auth, { reasonCode: '17' })
  const a = await e.link.send(rev)
  t.equal(a.message.mti, '0410')
  t.equal(a.message.fields['39'], '00', `DE 39 ${String(a.message.fields['39'])} in ${Math.round(a.latencyMs)} ms`)
  t.equal(a.message.fields['11'], rev.fields['11'])
  t.same(await e.available(card.accountId), { balance: 10_000, held: 0, available: 10_000 }, 'hold released')
  // a retransmitted 0400 gets the same answer and releases nothing more
  const again = await e.link.send(rev)
  t.same(again.message.fields, a.message.fields, 'same answer')
  t.same(await reversalRows(db, card.cardId), [{ kind: 'full', status: 'reversed' }], 'one reversal recorded')
})

t.test('partial reversal (DE 95) releases the difference', async (t) => {
  const card = await e.issueCard({ fund: 10_000 })
  const auth = e.auth(card, { amountMinor: 4000 })
  t.equal((await e.link.send(auth)).message.fields['39'], '00')
  const a = await e.link.send(reverse(auth, { replacementMinor: 1500 }))
  t.equal(a.message.fields['39'], '00')
  t.same(await e.available(card.accountId), { balance: 10_000, held: 1500, available: 8500 }, '4000 held → 1500 held')
  t.same(await reversalRows(db, card.cardId), [{ kind: 'partial', status: 'partially_reversed' }])
})

t.test('0420 repeated as 0421 → both acknowledged 0430 / 00, one release', async (t) => {
  const card = await e.issueCard({ fund: 10_000 })
  const auth = e.auth(card, { amountMinor: 3000 })
  t.equal((await e.link.send(auth)).message.fields['39'], '00')
  const advice = reverse(auth, { mti: '0420', reasonCode: '68' })
  const first = await e.link.send(advice)
  const repeat = await e.link.send({ ...advice, mti: '0421' })
  t.same([first.message.mti, first.message.fields['39'], repeat.message.mti, repeat.message.fields['39']], ['0430', '00', '0430', '00'])
  t.same(await e.available(card.accountId), { balance: 10_000, held: 0, available: 10_000 })
  t.same(await reversalRows(db, card.cardId), [{ kind: 'full', status: 'reversed' }], 'one reversal, one release')
})

t.test('0400 for an unknown original → 25; for a PAN that is not ours → 25', async (t) => {
  const card = await e.issueCard({ fund: 10_000 })
  const neverSent = e.auth(card, { amountMinor: 1000 })
  const a = await e.link.send(reverse(neverSent))
  t.equal(a.message.mti, '0410')
  t.equal(a.message.fields['39'], '25', 'unable to locate the original')
  const stranger = e.auth({ ...card, pan: '4539913199999993' }, { amountMinor: 1000 })
  e.sent.pans.add('4539913199999993')
  t.equal((await e.link.send(reverse(stranger))).message.fields['39'], '25', 'card not ours')
  // the reversal is remembered: the late 0100 it overtook is declined and holds nothing
  const late = await e.link.send(neverSent)
  t.not(late.message.fields['39'], '00', `the overtaken 0100 is declined (${String(late.message.fields['39'])})`)
  t.same(await e.available(card.accountId), { balance: 10_000, held: 0, available: 10_000 })
})

t.test('0120 STIP approval advice → 0130 / 00, recorded as scheme_stand_in, the ledger holds the amount', async (t) => {
  const card = await e.issueCard({ fund: 10_000 })
  const stan = e.link.nextStan()
  const transmissionTime = VisaLinkClient.transmissionTime()
  const adv = stipAdvice(card, { amountMinor: 1800, currency: 'EUR', mcc: '5411', country: 'DE', stan, transmissionTime, de39: '00' })
  const a = await e.link.send(adv)
  t.same([a.message.mti, a.message.fields['39']], ['0130', '00'])
  const rows = (await db.query<{ authorization_id: string; source: string; outcome: string }>('SELECT authorization_id, source, outcome FROM authorizations WHERE card_id = $1', [card.cardId])).rows
  t.equal(rows.length, 1)
  t.same({ source: rows[0]?.source, outcome: rows[0]?.outcome }, { source: 'scheme_stand_in', outcome: 'approve' })
  t.match(rows[0]?.authorization_id, new RegExp(`^visa:400050:\\d{8}T\\d{6}:${stan}$`), 'the id the 0100 would have had')
  const got = await e.authz.request<{ source: string; outcome: string }>({ method: 'GET', path: `/v1/authorizations/${encodeURIComponent(rows[0]!.authorization_id)}` })
  t.equal(got.body.source, 'scheme_stand_in')
  t.same(await e.available(card.accountId), { balance: 10_000, held: 1800, available: 8200 }, 'held as Visa approved')
  // a 0121 repeat changes nothing
  t.equal((await e.link.send({ ...adv, mti: '0121' })).message.fields['39'], '00')
  t.same(await e.available(card.accountId), { balance: 10_000, held: 1800, available: 8200 })
  // a STIP decline advice holds nothing and is acknowledged too
  const declined = await e.link.send(stipAdvice(card, { amountMinor: 900, currency: 'EUR', mcc: '5411', country: 'DE', stan: e.link.nextStan(), transmissionTime, de39: '51' }))
  t.equal(declined.message.fields['39'], '00')
  t.same(await e.available(card.accountId), { balance: 10_000, held: 1800, available: 8200 })
})

t.test('main cluster down: a 0420 is acknowledged, queued, and applied once it is back', async (t) => {
  const card = await e.issueCard({ fund: 10_000 })
  const auth = e.auth(card, { amountMinor: 2200 })
  t.equal((await e.link.send(auth)).message.fields['39'], '00')
  const healthz = e.platform.urls.authorizations!
  const down = async (): Promise<boolean> => fetch(`${healthz}/healthz`).then(() => false, () => true)
  // restart = stop, then start again (same port): the 0420 is sent in between
  const back = e.platform.restart('authorizations')
  await until('authorizations stopped', down, (v) => v, 30_000)
  const started = performance.now()
  const a = await e.link.send(reverse(auth, { mti: '0420' }))
  const took = performance.now() - started
  t.same([a.message.mti, a.message.fields['39']], ['0430', '00'], 'acknowledged while the main cluster is down')
  t.ok(took < DEADLINE_MS + 150, `in ${Math.round(took)} ms`)
  const queue = `${e.redisPrefix}bull:advices`
  t.ok((await pendingJobs(redis, queue)) >= 1, 'queued')
  t.equal((await e.available(card.accountId)).held, 2200, 'not applied yet')
  await back
  await until('hold released', () => e.available(card.accountId), (v) => v.held === 0)
  t.pass('applied after the restart')
  await new Promise((r) => setTimeout(r, 1000))
  t.same(await reversalRows(db, card.cardId), [{ kind: 'full', status: 'reversed' }], 'applied once')
  t.same(await e.available(card.accountId), { balance: 10_000, held: 0, available: 10_000 })
})

/** Run the CLI in-process and collect its JSON lines. */
async function sim(args: string[]): Promise<{ code: number; out: Record<string, unknown>[] }> {
  const lines: string[] = []
  const log = console.log
  console.log = (...a: unknown[]) => void lines.push(a.map(String).join(' '))
  try {
    const code = await runSim([...args, '--port', String(e.linkPort), '--json'])
    return { code, out: lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
  } finally {
    console.log = log
  }
}

t.test('sim CLI: auth --then-reverse, reverse --advice of an earlier STAN, advice; JSON with DE 39', async (t) => {
  const card = await e.issueCard({ fund: 10_000 })
  const cardArgs = ['--pan', card.pan, '--expiry', card.expiry, '--cvv2', card.cvv2]
  const a = await sim(['auth', ...cardArgs, '--amount', '3000', '--then-reverse', 'partial:1000'])
  t.equal(a.code, 0)
  t.match(a.out[0], { mti: '0110', de39: '00', reversal: { mti: '0410', de39: '00', request: '0400' } })
  t.same(await e.available(card.accountId), { balance: 10_000, held: 1000, available: 9000 }, '3000 held, reversed down to 1000')
  // reverse the rest later by the original's STAN and DE 7, as a 0420 advice
  const { stan, transmissionTime } = a.out[0] as { stan: string; transmissionTime: string }
  const r = await sim(['reverse', ...cardArgs, '--stan', stan, '--time', transmissionTime, '--amount', '3000', '--advice'])
  t.match(r.out[0], { mti: '0430', de39: '00', request: '0420' })
  t.same(await e.available(card.accountId), { balance: 10_000, held: 0, available: 10_000 })
  const adv = await sim(['advice', ...cardArgs, '--amount', '700', '--de39', '00'])
  t.match(adv.out[0], { mti: '0130', de39: '00', request: '0120' })
  t.same(await e.available(card.accountId), { balance: 10_000, held: 700, available: 9300 }, 'STIP approval held')
})

t.test('leak scan after the run: no PAN or CVV2 outside the vault ciphertext', async (t) => {
  await new Promise((r) => setTimeout(r, 500))
  const db = e.platform.databases
  const report = await leakScan({
    pans: [...e.sent.pans],
    cvv2s: [...e.sent.cvv2s],
    databases: [
      { url: db.ledger!, zone: 'main' },
      { url: db.authorizations!, zone: 'main' },
      { url: db['card-vault']!, zone: 'cde', ciphertextColumns: ['cards.record', 'data_keys.wrapped'] },
      { url: db.keyvault!, zone: 'cde' },
    ],
    redis: [{ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', pattern: `${e.redisPrefix}*` }],
    logs: [e.platform.dir],
  })
  t.ok(e.sent.pans.size >= 6, `scanned for ${e.sent.pans.size} PANs`)
  t.same(report.findings.filter((f) => f.kind !== 'pan_like'), [], 'no PAN or CVV2 anywhere')
  const hashChain = (l: string): boolean => /keyvault\/audit_log\.[a-z_]+$/.test(l) || /keyvault-audit\.jsonl:\d+$/.test(l)
  t.same(report.findings.filter((f) => f.kind === 'pan_like' && !hashChain(f.location)), [], 'no PAN-like run outside the key service hash chain')
  t.ok(report.scanned.redisKeys > 0, `redis keys scanned: ${report.scanned.redisKeys}`)
})
