// Reversal (0400/0420) and STIP advice (0120) flows through the pipeline's frame entry, on real Redis and
// BullMQ, with small in-process stand-ins for the card vault and the main cluster.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { AdviceResult, AuthorizationAdvice, ReversalRequest, ReversalResult } from '@cardplane/contracts'
import { newVisaHeader } from '@cardplane/iso8583'
import { VisaConnector, type VisaMessage } from '@cardplane/visa'
import { AdviceQueue } from '../src/pipeline/advice-queue.js'
import { DuplicateWindow } from '../src/pipeline/duplicate-window.js'
import { authorizationIdFor, NetworkMessageFlows } from '../src/pipeline/network-messages.js'
import { AuthorizationPipeline } from '../src/pipeline/pipeline.js'
import type { CardCheck, LinkConfig } from '../src/pipeline/types.js'

const PAN = '4000001234567899'
const connector = new VisaConnector()
const link: LinkConfig = { name: 'visa-test', scheme: 'visa', zpkName: 'zpk-visa' }
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const prefix = `test:processor-rev:${randomUUID()}:`
const header = newVisaHeader('400000', '000001')
const matchAll: CardCheck['results'] = { cvv: 'not_present', cvv2: 'not_present', icvv: 'not_present', pin: 'not_present', arqc: 'not_present', expiry: 'match' }

t.teardown(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length) await redis.del(...keys)
  // QUIT is answered after every command already sent: a slow machine's last writes finish first
  // (disconnect() would fail them with "Connection is closed" as unhandled rejections).
  await redis.quit()
})

let stanSeq = 500
const nextStan = (): string => String(stanSeq++).padStart(6, '0')
/** DE 7 of "now" (the tests run with real receipt times). */
function de7(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
}

/** An original 0100's ids, and a reversal of it. */
function reversalOf(original: { stan: string; de7: string }, mti = '0400', extra: Record<string, string> = {}): VisaMessage {
  return {
    mti,
    fields: {
      '2': PAN, '3': '000000', '4': '000000001250', '7': de7(), '11': nextStan(), '14': '2811', '32': '400050',
      '37': '632612000124', '41': 'TERM0001', '42': 'MERCHANT000001 ', '49': '978',
      '90': `0100${original.stan}${original.de7}${'400050'.padStart(11, '0')}${'0'.repeat(11)}`,
      ...extra,
    },
  }
}

function stip0120(de39: string, stan = nextStan()): VisaMessage {
  return {
    mti: '0120',
    fields: {
      '2': PAN, '3': '000000', '4': '000000001250', '7': de7(), '11': stan, '14': '2811', '18': '5411', '19': '276',
      '22': '010', '25': '59', '32': '400050', '37': '632612000123', '41': 'TERM0001', '42': 'MERCHANT000001 ',
      '43': 'Example Grocery          Berlin       DE', '49': '978', '60': Buffer.from('000000000500', 'hex'),
      '62.2': '381234567890123', '126.10': '11 123', '39': de39, '63.4': '9020',
    },
  }
}

const answerOf = (bytes: Buffer) => connector.decodeAny(bytes).message

interface Harness {
  pipeline: AuthorizationPipeline
  reversals: ReversalRequest[]
  advices: AuthorizationAdvice[]
  delivered: { reversals: ReversalRequest[]; advices: AuthorizationAdvice[] }
  queue: AdviceQueue
  calls: { resolve: number; verify: number }
  state: { mainDown: boolean; vaultDown: boolean }
}

function harness(opts: { notFound?: boolean; unknownCard?: boolean } = {}): Harness {
  const reversals: ReversalRequest[] = []
  const advices: AuthorizationAdvice[] = []
  const delivered = { reversals: [] as ReversalRequest[], advices: [] as AuthorizationAdvice[] }
  const calls = { resolve: 0, verify: 0 }
  const state = { mainDown: false, vaultDown: false }
  const result = (r: ReversalRequest): ReversalResult =>
    opts.notFound
      ? { reversalId: r.reversalId, originalAuthorizationId: r.originalAuthorizationId, status: 'original_not_found' }
      : { reversalId: r.reversalId, originalAuthorizationId: r.originalAuthorizationId, status: r.kind === 'full' ? 'reversed' : 'partially_reversed' }
  const adviceResult = (a: AuthorizationAdvice): AdviceResult => ({ adviceId: a.adviceId, authorizationId: a.request.authorizationId, status: 'posted', heldAmount: a.approvedAmount ?? { minor: 0, currency: 'EUR' } })
  const queue = new AdviceQueue({
    connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null },
    prefix: `${prefix}bull:${randomUUID()}`,
    backoffMs: 20,
    deliver: async (a) => {
      if (state.mainDown) throw new Error('main cluster down')
      delivered.advices.push(a)
      return adviceResult(a)
    },
    deliverReversal: async (r) => {
      if (state.mainDown) throw new Error('main cluster down')
      delivered.reversals.push(r)
      return result(r)
    },
  })
  queue.start()
  t.teardown(() => queue.close())
  const duplicates = new DuplicateWindow({ redis, prefix, windowMs: 60_000 })
  const verifier = {
    async verify(envelope: { reveal(): { pan: string; cvv2?: string }; lastFour: string }): Promise<CardCheck | undefined> {
      calls.verify++
      if (state.vaultDown) throw new Error('vault down')
      if (opts.unknownCard) return undefined
      t.equal(envelope.reveal().cvv2, undefined, 'an advice is not re-checked: no CVV2 sent')
      return { cardId: 'card_rev_1', lastFour: envelope.lastFour, programId: 'prog_demo', results: matchAll }
    },
  }
  const messages = new NetworkMessageFlows({
    connector,
    duplicates,
    resolver: {
      async resolve(envelope) {
        calls.resolve++
        if (state.vaultDown) throw new Error('vault down')
        if (opts.unknownCard) return undefined
        t.equal(envelope.reveal().pan, PAN)
        return 'card_rev_1'
      },
    },
    verifier,
    mainCluster: {
      async reverse(r) {
        if (state.mainDown) throw Object.assign(new Error('down'), { code: 'upstream_unavailable' })
        reversals.push(r)
        return result(r)
      },
      async advise(a) {
        if (state.mainDown) throw Object.assign(new Error('down'), { code: 'upstream_unavailable' })
        advices.push(a)
        return adviceResult(a)
      },
    },
    store: queue,
    deadlineMs: 1500,
  })
  const pipeline = new AuthorizationPipeline({
    connector,
    duplicates,
    verifier,
    decider: { decide: async () => Promise.reject(new Error('no authorisations in this test')) },
    advices: queue,
    messages,
    standInRules: { mode: 'decline', declineReason: 'issuer_unavailable' },
    redis,
    redisPrefix: prefix,
    deadlineMs: 1500,
    maxInFlight: 1,
  })
  return { pipeline, reversals, advices, delivered, queue, calls, state }
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const send = async (h: Harness, msg: VisaMessage, receivedAt = new Date()) => h.pipeline.handleFrame(link, connector.encodeRequest(header, msg), receivedAt)

t.test('0400 full: the unified reversal names the original 0100 and the card ID, never the PAN; 0410/00', async (t) => {
  const h = harness()
  const original = { stan: '000123', de7: de7(new Date(Date.now() - 5000)) }
  const msg = reversalOf(original, '0400', { '39': '68' })
  const r = await send(h, msg)
  if (r.action !== 'answer') throw new Error(`expected an answer, got ${r.action}`)
  const a = answerOf(r.frame)
  t.equal(a.mti, '0410')
  t.equal(a.fields['39'], '00')
  t.equal(a.fields['11'], msg.fields['11'])
  t.equal(h.reversals.length, 1)
  const rev = h.reversals[0]!
  const year = new Date().getUTCFullYear()
  const expectedOriginal = authorizationIdFor('visa', { acquirerId: '400050', stan: '000123', transmissionTime: new Date(Date.UTC(year, Number(original.de7.slice(0, 2)) - 1, Number(original.de7.slice(2, 4)), Number(original.de7.slice(4, 6)), Number(original.de7.slice(6, 8)), Number(original.de7.slice(8, 10)))).toISOString() })
  t.equal(rev.originalAuthorizationId, expectedOriginal, 'the id the 0100 was decided under')
  t.match(rev.reversalId, /^rev:visa:400050:\d{8}T\d{6}:\d{6}$/)
  t.same({ cardId: rev.cardId, kind: rev.kind, reason: rev.reason, advice: rev.advice }, { cardId: 'card_rev_1', kind: 'full', reason: 'late_response', advice: false })
  t.notMatch(JSON.stringify(rev), PAN)
  // retransmission: same answer, no second call
  const again = await send(h, msg)
  t.same(again.action === 'answer' ? answerOf(again.frame).fields : undefined, a.fields, 'same answer')
  t.equal(h.reversals.length, 1, 'answered from the duplicate window')
})

t.test('0400 partial carries the DE 95 replacement amount', async (t) => {
  const h = harness()
  await send(h, reversalOf({ stan: '000200', de7: de7() }, '0400', { '95': `${'000000000500'}${'0'.repeat(12)}${'000000000500'}${'0'.repeat(6)}` }))
  t.same({ kind: h.reversals[0]?.kind, replacement: h.reversals[0]?.replacementAmount }, { kind: 'partial', replacement: { minor: 500, currency: 'EUR' } })
})

t.test('0400 for an unknown original → 25; for a card that is not ours → 25; a 0420 for either → 00', async (t) => {
  const nf = harness({ notFound: true })
  const r1 = await send(nf, reversalOf({ stan: '000300', de7: de7() }))
  t.equal(r1.action === 'answer' ? r1.de39 : r1.action, '25')
  const r2 = await send(nf, reversalOf({ stan: '000301', de7: de7() }, '0420'))
  t.equal(r2.action === 'answer' ? r2.de39 : r2.action, '00', 'an advice is acknowledged')
  const uc = harness({ unknownCard: true })
  const r3 = await send(uc, reversalOf({ stan: '000302', de7: de7() }))
  t.equal(r3.action === 'answer' ? r3.de39 : r3.action, '25')
  t.equal(uc.reversals.length, 0, 'nothing posted')
  const r4 = await send(uc, reversalOf({ stan: '000303', de7: de7() }, '0420'))
  t.equal(r4.action === 'answer' ? r4.de39 : r4.action, '00')
})

t.test('0400 with the main cluster down → 91, not remembered: the repeat is worked on again', async (t) => {
  const h = harness()
  h.state.mainDown = true
  const msg = reversalOf({ stan: '000400', de7: de7() })
  const r = await send(h, msg)
  t.equal(r.action === 'answer' ? r.de39 : r.action, '91')
  t.equal(await h.queue.pending(), 0, 'a request is not queued')
  h.state.mainDown = false
  const again = await send(h, { ...msg, mti: '0401' })
  t.equal(again.action === 'answer' ? again.de39 : again.action, '00', 'the 0401 repeat gets through')
  t.equal(again.action === 'answer' ? answerOf(again.frame).mti : '', '0410')
  t.equal(h.reversals.length, 1)
})

t.test('0420 with the main cluster down: acknowledged 00, queued, delivered once; the 0421 repeat is not queued twice', async (t) => {
  const h = harness()
  h.state.mainDown = true
  const msg = reversalOf({ stan: '000500', de7: de7() }, '0420')
  const r = await send(h, msg)
  if (r.action !== 'answer') throw new Error('expected an answer')
  t.equal(answerOf(r.frame).mti, '0430')
  t.equal(r.de39, '00')
  t.equal(await h.queue.pending(), 1, 'durable in the queue')
  const repeat = await send(h, { ...msg, mti: '0421' })
  t.equal(repeat.action === 'answer' ? answerOf(repeat.frame).mti : repeat.action, '0430')
  t.equal(await h.queue.pending(), 1, 'still one job')
  h.state.mainDown = false
  await until(() => h.delivered.reversals.length === 1)
  await new Promise((res) => setTimeout(res, 200))
  t.equal(h.delivered.reversals.length, 1, 'delivered exactly once')
  t.equal(h.delivered.reversals[0]?.advice, true)
  t.notMatch(JSON.stringify(await h.queue.queue.getJobs(['completed'])), PAN, 'no PAN in the queue')
})

t.test('0420 while the card vault is down: no answer (Visa repeats the advice), nothing remembered', async (t) => {
  const h = harness()
  h.state.vaultDown = true
  const msg = reversalOf({ stan: '000600', de7: de7() }, '0420')
  const r = await send(h, msg)
  t.equal(r.action, 'none')
  h.state.vaultDown = false
  const repeat = await send(h, { ...msg, mti: '0421' })
  t.equal(repeat.action === 'answer' ? repeat.de39 : repeat.action, '00', 'the repeat is processed')
  t.equal(h.reversals.length, 1)
})

t.test('a 0420 that arrives past its deadline is not shed: worked on, queued, acknowledged 00', async (t) => {
  const h = harness()
  const late = new Date(Date.now() - 5000)
  const r = await send(h, reversalOf({ stan: '000700', de7: de7(late) }, '0420'), late)
  t.equal(r.action === 'answer' ? r.de39 : r.action, '00')
  await until(async () => h.reversals.length + h.delivered.reversals.length >= 1)
  t.equal(h.reversals.length + h.delivered.reversals.length, 1, 'posted once, directly or through the queue')
})

t.test('0120 STIP advices: posted as scheme_stand_in for the 0100 they answered; queued when the main cluster is down', async (t) => {
  const h = harness()
  const stan = nextStan()
  const msg = stip0120('00', stan)
  const r = await send(h, msg)
  if (r.action !== 'answer') throw new Error('expected an answer')
  t.same({ mti: answerOf(r.frame).mti, de39: r.de39 }, { mti: '0130', de39: '00' })
  const a = h.advices[0]!
  t.same(
    { source: a.source, outcome: a.outcome, why: a.standInReason, amount: a.approvedAmount, cardId: a.request.cardId, lastFour: a.request.lastFour },
    { source: 'scheme_stand_in', outcome: 'approve', why: 'issuer_timeout', amount: { minor: 1250, currency: 'EUR' }, cardId: 'card_rev_1', lastFour: '7899' },
  )
  t.match(a.request.authorizationId, new RegExp(`^visa:400050:\\d{8}T\\d{6}:${stan}$`))
  t.equal(a.adviceId, `stip:${a.request.authorizationId}`)
  t.notMatch(JSON.stringify(a), PAN)
  const repeat = await send(h, { ...msg, mti: '0121' })
  t.equal(repeat.action === 'answer' ? answerOf(repeat.frame).mti : repeat.action, '0130')
  t.equal(h.advices.length, 1, 'the 0121 repeat is answered from the window')

  const declined = await send(h, stip0120('51'))
  t.equal(declined.action === 'answer' ? declined.de39 : declined.action, '00', 'a decline advice is acknowledged too')
  t.same({ outcome: h.advices[1]?.outcome, reason: h.advices[1]?.reason }, { outcome: 'decline', reason: 'insufficient_funds' })

  h.state.mainDown = true
  const queued = await send(h, stip0120('00'))
  t.equal(queued.action === 'answer' ? queued.de39 : queued.action, '00')
  t.equal(await h.queue.pending(), 1)
  h.state.mainDown = false
  await until(() => h.delivered.advices.length === 1)
  t.equal(h.delivered.advices[0]?.source, 'scheme_stand_in')
})

t.test('without the flows wired, reversals and advices are answered 12', async (t) => {
  const h = harness()
  const bare = new AuthorizationPipeline({
    connector,
    duplicates: new DuplicateWindow({ redis, prefix, windowMs: 60_000 }),
    verifier: { verify: async () => undefined },
    decider: { decide: async () => Promise.reject(new Error('unused')) },
    advices: h.queue,
    standInRules: { mode: 'decline' },
    redis,
    redisPrefix: prefix,
    deadlineMs: 1500,
  })
  const r = await bare.handleFrame(link, connector.encodeRequest(header, reversalOf({ stan: '000800', de7: de7() })))
  t.equal(r.action === 'answer' ? r.de39 : r.action, '12')
})
