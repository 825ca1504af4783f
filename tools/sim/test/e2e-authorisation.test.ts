// End to end over TCP through every zone: a simulated Visa link → proxy-public (g1, TCP) → processor (g2,
// pipeline) → card-vault (g3) → keyvault (g4); processor → proxy-internal (g1) → authorizations (g0) →
// ledger (g0). Every service is its own process with its own identity and database.
import t from 'tap'
import { Redis } from 'ioredis'
import pg from 'pg'
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { freePort, startTestPlatform, TEST_KEYS, type TestPlatform } from '@cardplane/tool-leak-scan/platform'
import { leakScan } from '@cardplane/tool-leak-scan'
import { frame as vmlh } from '@cardplane/iso8583'
import { parseTlv } from '@cardplane/visa'
import { authorizationRequest, type AuthOptions } from '../src/card-messages.js'
import { issueCards, pinBlockUnder, setupClients, type IssuedCard } from '../src/issuer-setup.js'
import { VisaLinkClient } from '../src/visa-link-client.js'
import { e2eProgram, KEYS, pendingJobs } from './e2e-harness.js'

const PROGRAM = e2eProgram('e2e-visa-eur', '45399130', '2000000')
const DEADLINE_MS = 1500
// Seven service processes start on two shared cores: allow more than the default per-file timeout.
t.setTimeout(480_000)
/** The processor's Redis prefix: under the test platform's own, which its stop deletes. */
let redisPrefix: string

let platform: TestPlatform
let linkPort: number
const clients: ServiceClient[] = []
let vault: ServiceClient
let ledger: ServiceClient
let authz: ServiceClient
let link: VisaLinkClient
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')


function client(callee: string, as: string): ServiceClient {
  const c = createServiceClient({ callee, zoneMap: platform.zoneMap, svids: platform.workload(as), baseUrl: platform.urls[callee]!, timeoutMs: 20_000 })
  clients.push(c)
  return c
}

/** PID of the service process listening on a port (the test started it, through the platform). */
let accountSeq = 0
/** Everything sensitive the test sent, for the leak scan at the end. */
const sent = { pans: new Set<string>(), cvv2s: new Set<string>(), pinBlocks: new Set<string>() }
/** Issue a card, open and fund its account, register its state; the PAN comes back only through a reveal. */
async function issueCard(opts: { fund?: number; status?: string; controls?: Record<string, unknown>; pin?: string } = {}): Promise<IssuedCard> {
  const issued = await vault.request<{ cards: { cardId: string }[] }>({ method: 'POST', path: '/v1/cards', body: { program: PROGRAM, count: 1 } })
  const cardId = issued.body.cards[0]!.cardId
  const s = await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${cardId}/sessions`, body: { kind: 'card' } })
  const r = await vault.request<{ pan: string; expiryMonth: number; expiryYear: number; cvv2: string }>({ method: 'POST', path: '/v1/sessions/reveal', body: { token: s.body.token } })
  const expiry = `${String(r.body.expiryYear % 100).padStart(2, '0')}${String(r.body.expiryMonth).padStart(2, '0')}`
  if (opts.pin) {
    const ps = await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${cardId}/sessions`, body: { kind: 'pin_set' } })
    await vault.request({ method: 'POST', path: '/v1/sessions/pin', body: { token: ps.body.token, pin: { zpkName: TEST_KEYS.zpk, pinBlock: pinBlockUnder(TEST_KEYS.zpkMaterial, r.body.pan, opts.pin), pinBlockFormat: 0 } } })
  }
  const accountId = `acc_e2e_${process.pid}_${++accountSeq}`
  await ledger.request({ method: 'POST', path: '/v1/accounts', body: { id: accountId, currency: 'EUR' } })
  if (opts.fund) await ledger.request({ method: 'POST', path: `/v1/accounts/${accountId}/credits`, body: { idempotencyKey: `fund_${accountId}`, amount: { minor: opts.fund, currency: 'EUR' } } })
  await authz.request({ method: 'PUT', path: `/v1/cards/${cardId}`, body: { accountId, programId: PROGRAM.id, status: opts.status ?? 'active', currency: 'EUR', ...(opts.controls ? { controls: opts.controls } : {}) } })
  sent.pans.add(r.body.pan)
  sent.cvv2s.add(r.body.cvv2)
  return { cardId, accountId, pan: r.body.pan, expiry, cvv2: r.body.cvv2, ...(opts.pin ? { pin: opts.pin } : {}) }
}

function auth(card: IssuedCard, o: Partial<AuthOptions> = {}) {
  const msg = authorizationRequest(card, KEYS, {
    kind: 'ecommerce',
    amountMinor: 1250,
    currency: 'EUR',
    mcc: '5411',
    country: 'DE',
    stan: link.nextStan(),
    transmissionTime: VisaLinkClient.transmissionTime(),
    ...o,
  })
  const pinBlock = msg.fields['52']
  if (Buffer.isBuffer(pinBlock)) sent.pinBlocks.add(pinBlock.toString('hex').toUpperCase())
  return msg
}

async function de39(card: IssuedCard, o: Partial<AuthOptions> = {}): Promise<string> {
  const a = await link.send(auth(card, o))
  return String(a.message.fields['39'])
}

async function available(accountId: string): Promise<{ balance: number; held: number; available: number }> {
  const r = await ledger.request<{ balance: { minor: number }; held: { minor: number }; available: { minor: number } }>({ method: 'GET', path: `/v1/accounts/${accountId}` })
  return { balance: r.body.balance.minor, held: r.body.held.minor, available: r.body.available.minor }
}

t.before(async () => {
  linkPort = await freePort()
  platform = await startTestPlatform({
    services: ['keyvault', 'card-vault', 'ledger', 'authorizations', 'proxy-internal', 'processor', 'proxy-public'],
    prefix: 'auth_e2e',
    env: {
      processor: {
        PROCESSOR_LINKS: JSON.stringify([{ name: 'visa', scheme: 'visa', zpkName: TEST_KEYS.zpk }]),
        AUTH_DEADLINE_MS: String(DEADLINE_MS),
        ADVICE_RETRY_MS: '200',
      },
      'proxy-public': {
        // The reveal page is not used here; an ephemeral port avoids clashing with a running `pnpm start`.
        PUBLIC_REVEAL_PORT: '0',
        PUBLIC_LINKS: JSON.stringify([
          { name: 'visa', scheme: 'visa', port: linkPort, framing: 'vmlh', allowedPeers: [], maxFrameSize: 2048, readTimeoutMs: 400, idleTimeoutMs: 60_000, maxConnections: 8, maxInFlight: 256 },
        ]),
      },
    },
  })
  redisPrefix = `${platform.redisPrefix}processor:`
  vault = client('card-vault', 'processor')
  ledger = client('ledger', 'cards')
  authz = client('authorizations', 'cards')
  link = await VisaLinkClient.connect({ port: linkPort, timeoutMs: 8000 })
  // Warm-up: the first authorisation pays for cold caches (JIT, pools, first SVIDs) in every process;
  // its answer is not asserted. The deadline tests below run warm, as a production link would.
  const warm = await issueCard({ fund: 1000 })
  for (let i = 0; i < 3; i++) await link.send(auth(warm, { amountMinor: 1 }))
})

t.teardown(async () => {
  await link?.close().catch(() => undefined)
  for (const c of clients) await c.close()
  redis.disconnect()
  await platform?.stop()
})

t.test('sign-on, echo and sign-off are answered 0810 / 00', async (t) => {
  for (const code of ['071', '301', '072'] as const) {
    const a = await link.networkManagement(code)
    t.equal(a.message.mti, '0810')
    t.equal(a.message.fields['39'], '00', `DE 70 ${code}`)
  }
})

t.test('e-commerce with CVV2 approved: 00, approval code, one hold in the ledger', async (t) => {
  const card = await issueCard({ fund: 10_000 })
  const a = await link.send(auth(card, { amountMinor: 2500 }))
  t.equal(a.message.fields['39'], '00', `DE 39 ${String(a.message.fields['39'])} in ${Math.round(a.latencyMs)} ms`)
  t.match(a.message.fields['38'], /^[0-9]{6}$/)
  t.same(await available(card.accountId), { balance: 10_000, held: 2500, available: 7500 })
})

t.test('issueCards: more cards than the card vault issues in one call, each revealed, funded and authorised', async (t) => {
  const setup = setupClients({ vault, ledger, authorizations: authz })
  // The card vault's maximum is 100 a call: 101 takes two calls.
  const cards = await issueCards(setup, { program: PROGRAM, count: 101, fund: 1_000, accountPrefix: `acc_e2e_many_${process.pid}` })
  for (const c of cards) {
    sent.pans.add(c.pan)
    sent.cvv2s.add(c.cvv2)
  }
  t.equal(cards.length, 101)
  t.equal(new Set(cards.map((c) => c.cardId)).size, 101, 'distinct cards')
  t.equal(new Set(cards.map((c) => c.accountId)).size, 101, 'an account each')
  for (const c of [cards[0]!, cards[100]!]) {
    t.equal(await de39(c, { amountMinor: 500 }), '00', 'the first and the last card authorise')
    t.same(await available(c.accountId), { balance: 1_000, held: 500, available: 500 })
  }
})

t.test('declines map to Visa DE 39', async (t) => {
  const funded = await issueCard({ fund: 10_000 })
  const insuf = await link.send(auth(funded, { amountMinor: 20_000 }))
  t.equal(insuf.message.fields['39'], '51', `insufficient funds (got ${String(insuf.message.fields['39'])} in ${Math.round(insuf.latencyMs)} ms)`)
  t.equal(await de39(funded, { cvv2: String((Number(funded.cvv2) + 1) % 1000).padStart(3, '0') }), 'N7', 'bad CVV2')
  t.equal(await de39(await issueCard({ fund: 10_000, status: 'frozen' })), '62', 'frozen card')
  t.equal(await de39(await issueCard({ fund: 10_000, status: 'expired' })), '54', 'expired card')
  t.equal(await de39(await issueCard({ fund: 10_000, controls: { blockedMccs: ['7995'] } }), { mcc: '7995' }), '57', 'MCC blocked')
  t.equal(await de39(await issueCard({ fund: 100_000, controls: { perTransactionLimit: 5000 } }), { amountMinor: 6000 }), '61', 'limit exceeded')
  t.same(await available(funded.accountId), { balance: 10_000, held: 0, available: 10_000 }, 'no hold for declines')
})

t.test('PIN: right PIN approved, wrong PIN 55, then PIN tries exceeded 75', async (t) => {
  const card = await issueCard({ fund: 10_000, pin: '5927' })
  t.equal(await de39(card, { kind: 'pin', amountMinor: 100 }), '00', 'right PIN')
  t.equal(await de39(card, { kind: 'pin', pin: '1111' }), '55', 'wrong PIN')
  t.equal(await de39(card, { kind: 'pin', pin: '1111' }), '55', 'wrong PIN again')
  t.equal(await de39(card, { kind: 'pin', pin: '1111' }), '75', 'third wrong PIN: tries exceeded')
  t.equal(await de39(card, { kind: 'pin' }), '75', 'locked even with the right PIN')
})

t.test('chip: valid ARQC approved, bad ARQC 82', async (t) => {
  const card = await issueCard({ fund: 10_000 })
  const ok = await link.send(auth(card, { kind: 'chip', amountMinor: 700 }))
  t.equal(ok.message.fields['39'], '00', 'valid ARQC')
  // The 0110 carries the ARPC for the card (DE 55 in Visa's chip-data usage: 01, 2-byte length, BER-TLV).
  const chip = ok.message.fields['55']
  t.ok(Buffer.isBuffer(chip), 'DE 55 present in the 0110')
  if (Buffer.isBuffer(chip)) {
    const tags = parseTlv(chip.subarray(3))
    t.match(tags['91'], /^[0-9A-F]{16,32}$/i, 'tag 91 issuer authentication data (ARPC + CSU)')
  }
  t.equal(await de39(card, { kind: 'chip', badArqc: true }), '82', 'bad ARQC')
})

t.test('duplicate retransmission: same answer, one hold', async (t) => {
  const card = await issueCard({ fund: 10_000 })
  const msg = auth(card, { amountMinor: 3000 })
  const bytes = link.encode(msg)
  const first = await link.sendRaw(bytes, String(msg.fields['11']))
  const again = await link.sendRaw(bytes, String(msg.fields['11']))
  const [c1, c2] = await Promise.all([link.sendRaw(bytes, String(msg.fields['11'])), new Promise((r) => setTimeout(r, 1)).then(() => null)])
  t.equal(first.message.fields['39'], '00')
  t.same(again.message.fields, first.message.fields, 'identical answer')
  t.same(c1.message.fields, first.message.fields)
  void c2
  t.same(await available(card.accountId), { balance: 10_000, held: 3000, available: 7000 }, 'one hold')
})

/** A counter or histogram total of a service's /metrics (sum over the series whose text matches `series`). */
async function metricTotal(service: string, series: RegExp): Promise<number> {
  const text = await (await fetch(`${platform.urls[service]}/metrics`)).text()
  return text
    .split('\n')
    .filter((l) => series.test(l))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
}

const FRAME_BATCHES = /^http_requests_total\{.*route="\/v1\/links\/:link\/frame-batches".*status_code="200"/

t.test('a burst on many cards: every answer its own, verifications and decisions batched', async (t) => {
  const cards = await Promise.all(Array.from({ length: 24 }, () => issueCard({ fund: 5_000 })))
  // Two authorisations for one card with funds for one: never in one batch, the second sees the first hold.
  const shared = await issueCard({ fund: 3_000 })
  const batchesBefore = await metricTotal('proxy-internal', /^proxy_forwarded_total\{.*route="decisions-batch"/)
  const verifyBatchesBefore = await metricTotal('card-vault', /^http_requests_total\{.*route="\/v1\/verify\/batch"/)
  const frameBatchesBefore = await metricTotal('processor', FRAME_BATCHES)
  const msgs = [...cards.map((c, i) => auth(c, { amountMinor: 1000 + i })), auth(shared, { amountMinor: 2000 }), auth(shared, { amountMinor: 2000 })]
  const answers = await Promise.all(msgs.map((m) => link.send(m)))
  answers.slice(0, 24).forEach((a, i) => {
    t.equal(a.message.fields['39'], '00', `card ${i}`)
    t.equal(a.message.fields['11'], msgs[i]!.fields['11'], 'matched to its own request')
  })
  t.same(answers.slice(24).map((a) => a.message.fields['39']).sort(), ['00', '51'], 'one card: one approved, one insufficient funds')
  for (const [i, c] of cards.entries()) t.same(await available(c.accountId), { balance: 5_000, held: 1000 + i, available: 4_000 - i })
  t.same(await available(shared.accountId), { balance: 3_000, held: 2_000, available: 1_000 })
  const batches = (await metricTotal('proxy-internal', /^proxy_forwarded_total\{.*route="decisions-batch"/)) - batchesBefore
  t.ok(batches > 0, `decision batches forwarded: ${batches}`)
  const verifyBatches = (await metricTotal('card-vault', /^http_requests_total\{.*route="\/v1\/verify\/batch"/)) - verifyBatchesBefore
  t.ok(verifyBatches > 0, `verification batches: ${verifyBatches}`)
  // The edge held the burst (PUBLIC_FRAME_COALESCE_MS) and forwarded the held frames as groups.
  const frameBatches = (await metricTotal('processor', FRAME_BATCHES)) - frameBatchesBefore
  t.ok(frameBatches > 0 && frameBatches < msgs.length, `frame groups from the edge: ${frameBatches} for ${msgs.length} frames`)
})

t.test('main cluster down: stand-in 91 within the deadline, advice recorded and replayed once', async (t) => {
  const card = await issueCard({ fund: 10_000 })
  const queue = `${redisPrefix}bull:advices`
  // Earlier tests may have left stand-ins of their own on a slow machine: count this card's advice and
  // the jobs completed from here on, not the whole table and queue.
  const completedBefore = await redis.zcard(`${queue}:completed`)
  const pid = platform.pid('authorizations')!
  process.kill(pid, 'SIGSTOP')
  let resumed = false
  t.teardown(() => {
    if (!resumed) process.kill(pid, 'SIGCONT')
  })
  const msg = auth(card, { amountMinor: 1500 })
  const started = performance.now()
  const a = await link.send(msg)
  const took = performance.now() - started
  t.equal(a.message.fields['39'], '91')
  t.ok(took < DEADLINE_MS + 150, `answered in ${Math.round(took)} ms (deadline ${DEADLINE_MS} ms)`)
  // the retransmission is answered from the duplicate window, no second advice
  const again = await link.send(msg)
  t.equal(again.message.fields['39'], '91')
  t.ok((await pendingJobs(redis, queue)) >= 1, 'advice stored in the queue')
  process.kill(pid, 'SIGCONT')
  resumed = true
  const db = new pg.Client({ connectionString: platform.databases.authorizations! })
  await db.connect()
  t.teardown(() => db.end())
  const cardAdvices = async (): Promise<string | undefined> =>
    (
      await db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM advices WHERE authorization_id IN (SELECT authorization_id FROM authorizations WHERE card_id = $1)',
        [card.cardId],
      )
    ).rows[0]?.n
  for (let i = 0; i < 100; i++) {
    if ((await cardAdvices()) !== '0') break
    await new Promise((r) => setTimeout(r, 200))
  }
  await new Promise((r) => setTimeout(r, 1000))
  t.equal(await cardAdvices(), '1', 'the stand-in advice reached the main cluster exactly once')
  t.equal((await redis.zcard(`${queue}:completed`)) - completedBefore, 1, 'one delivered job')
  const recorded = (
    await db.query<{ source: string; outcome: string; issuer_outcome: string | null }>('SELECT source, outcome, issuer_outcome FROM authorizations WHERE card_id = $1', [card.cardId])
  ).rows
  t.equal(recorded.length, 1, 'one authorisation record')
  t.same({ source: recorded[0]?.source, outcome: recorded[0]?.outcome }, { source: 'processor_stand_in', outcome: 'decline' }, `the stand-in answer stands (late issuer decision: ${recorded[0]?.issuer_outcome ?? 'none'})`)
  // authorizations was frozen with the decision request in its socket: after SIGCONT it decides late
  // (an approval with a hold) and then gets the advice, which reconciles to the stand-in's decline.
  t.same(await available(card.accountId), { balance: 10_000, held: 0, available: 10_000 }, 'late decision not applied: no hold after the stand-in decline')
})

t.test('bad frames at the TCP edge; the link keeps serving', async (t) => {
  const card = await issueCard({ fund: 100_000 })
  const good = () => link.encode(auth(card, { amountMinor: 100 }))
  const bad = await VisaLinkClient.connect({ port: linkPort, timeoutMs: 4000 })
  t.teardown(() => bad.close())

  // zero-length frames (keep-alive polls) are ignored, the connection stays
  bad.writeRaw(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]))
  t.equal((await bad.send(auth(card, { amountMinor: 100 }))).message.fields['39'], '00', 'served after keep-alives')

  // trailing bytes after the last field → 0110 / 30 on the same connection
  const trailing = Buffer.concat([good(), Buffer.from([0xde, 0xad])])
  trailing.writeUInt16BE(trailing.length, 3)
  const stanT = String(link.connector.decodeAny(good()).message.fields['11'])
  void stanT
  bad.writeRaw(vmlh('vmlh', trailing))
  const tAns = await bad.nextUnmatched(4000).catch(() => undefined)
  t.ok(tAns === undefined || tAns.message.fields['39'] === '30' || tAns.rejectCode, 'trailing bytes answered 30')

  // non-numeric BCD in DE 4 → 30
  const msgN = auth(card, { amountMinor: 100 })
  const nonNum = bad.encode(msgN)
  nonNum[22 + 2 + 16 + 1 + 8 + 3] = 0xab
  const nAns = await bad.sendRaw(nonNum, String(msgN.fields['11']))
  t.equal(nAns.message.fields['39'], '30', 'non-numeric amount → format error')

  // a response MTI inbound → reject header, connection stays
  bad.writeRaw(vmlh('vmlh', bad.encode({ mti: '0110', fields: { '11': '999999', '39': '00' } })))
  const rej = await bad.nextUnmatched(4000)
  t.ok(rej.rejectCode, `rejected (${rej.rejectCode})`)

  t.equal((await bad.send(auth(card, { amountMinor: 100 }))).message.fields['39'], '00', 'same connection still served')

  // a length over the maximum closes that connection; the main link is unaffected
  bad.writeRaw(Buffer.from([0xff, 0xff, 0, 0]))
  await bad.closed
  t.pass('oversized length closed the connection')

  // a truncated frame that never completes: closed after the read timeout
  const stalled = await VisaLinkClient.connect({ port: linkPort })
  const g = vmlh('vmlh', good())
  stalled.writeRaw(g.subarray(0, g.length - 10))
  await stalled.closed
  t.pass('stalled frame closed after the read timeout')

  t.equal(await de39(card, { amountMinor: 100 }), '00', 'other connections keep being served')
})

t.test('leak scan after the run: no PAN, CVV2 or PIN block outside the vault ciphertext', async (t) => {
  await new Promise((r) => setTimeout(r, 500)) // let the services flush their logs
  const db = platform.databases
  const report = await leakScan({
    pans: [...sent.pans],
    cvv2s: [...sent.cvv2s],
    pinBlocks: [...sent.pinBlocks],
    databases: [
      { url: db.ledger!, zone: 'main' },
      { url: db.authorizations!, zone: 'main' },
      { url: db['card-vault']!, zone: 'cde', ciphertextColumns: ['cards.record', 'data_keys.wrapped'] },
      { url: db.keyvault!, zone: 'cde' },
    ],
    // The processor's duplicate window, stand-in counters and advice queue.
    redis: [{ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', pattern: `${redisPrefix}*` }],
    logs: [platform.dir],
  })
  t.ok(sent.pans.size >= 10 && sent.pinBlocks.size >= 2, `scanned for ${sent.pans.size} PANs, ${sent.cvv2s.size} CVV2s, ${sent.pinBlocks.size} PIN blocks`)
  t.same(report.findings.filter((f) => f.kind !== 'pan_like'), [], 'no PAN, CVV2 or PIN block anywhere')
  // Luhn-valid digit runs that are not our PANs: the key service's audit log (hex SHA-256 chain and
  // HMAC'd values) contains such runs by chance; anything else would be a card number we did not issue.
  const hashChain = (l: string): boolean => /keyvault\/audit_log\.[a-z_]+$/.test(l) || /keyvault-audit\.jsonl:\d+$/.test(l)
  t.same(report.findings.filter((f) => f.kind === 'pan_like' && !hashChain(f.location)), [], 'no PAN-like run outside the key service hash chain')
  t.ok(report.scanned.redisKeys > 0, `redis keys scanned: ${report.scanned.redisKeys}`)
  t.ok(report.scanned.logLines > 20, `log lines scanned: ${report.scanned.logLines}`)
})
