import { Agent, request } from 'undici'
import { authorizationRequest, reversalRequest, type AuthKind, type SimCard, type SimKeys } from './card-messages.js'
import { consoleClients, fetchReveal, yymm } from './dev-platform.js'
import { pinBlockUnder } from './issuer-setup.js'
import { VisaLinkClient } from './visa-link-client.js'
import { summarise } from './stats.js'

/** One demo scenario: a card set up a certain way and an authorisation expected to get `expect`. */
interface Scenario {
  name: string
  /** The internal reason the scenario exercises (`approved` for approvals). */
  reason: string
  expect: string
  fund?: number
  status?: string
  controls?: Record<string, unknown>
  pin?: string
  auths: { kind: AuthKind; amountMinor: number; mcc?: string; cvv2Wrong?: boolean; pin?: string }[]
  /** After the authorisations, reverse the last one in full (0400) and expect 0410 / 00. */
  thenReverse?: boolean
}

const SCENARIOS: Scenario[] = [
  { name: 'e-commerce approvals', reason: 'approved', expect: '00', fund: 100_000, auths: [1250, 990, 4500, 150, 2999].map((a) => ({ kind: 'ecommerce' as const, amountMinor: a })) },
  { name: 'chip approval', reason: 'approved', expect: '00', fund: 100_000, auths: [{ kind: 'chip', amountMinor: 3000 }] },
  { name: 'PIN approval', reason: 'approved', expect: '00', fund: 100_000, pin: '5927', auths: [{ kind: 'pin', amountMinor: 2000 }] },
  { name: 'approval then reversal', reason: 'reversed', expect: '00', fund: 100_000, auths: [{ kind: 'ecommerce', amountMinor: 2500 }], thenReverse: true },
  { name: 'insufficient funds', reason: 'insufficient_funds', expect: '51', fund: 1000, auths: [{ kind: 'ecommerce', amountMinor: 5000 }] },
  { name: 'frozen card', reason: 'card_frozen', expect: '62', fund: 100_000, status: 'frozen', auths: [{ kind: 'ecommerce', amountMinor: 1000 }] },
  { name: 'expired card', reason: 'card_expired', expect: '54', fund: 100_000, status: 'expired', auths: [{ kind: 'ecommerce', amountMinor: 1000 }] },
  { name: 'MCC blocked', reason: 'mcc_blocked', expect: '57', fund: 100_000, controls: { blockedMccs: ['7995'] }, auths: [{ kind: 'ecommerce', amountMinor: 1000, mcc: '7995' }] },
  { name: 'limit exceeded', reason: 'limit_exceeded_transaction', expect: '61', fund: 100_000, controls: { perTransactionLimit: 5000 }, auths: [{ kind: 'ecommerce', amountMinor: 6000 }] },
  { name: 'bad CVV2', reason: 'invalid_cvv', expect: 'N7', fund: 100_000, auths: [{ kind: 'ecommerce', amountMinor: 1000, cvv2Wrong: true }] },
  { name: 'wrong PIN', reason: 'invalid_pin', expect: '55', fund: 100_000, pin: '5927', auths: [{ kind: 'pin', amountMinor: 1000, pin: '1111' }] },
  {
    name: 'PIN tries exceeded',
    reason: 'pin_tries_exceeded',
    expect: '75',
    fund: 100_000,
    pin: '5927',
    auths: [{ kind: 'pin', amountMinor: 1000, pin: '1111' }, { kind: 'pin', amountMinor: 1000, pin: '1111' }, { kind: 'pin', amountMinor: 1000, pin: '1111' }],
  },
]

/** Result of one authorisation in the demo. */
export interface DemoRow {
  scenario: string
  reason: string
  expected: string
  de39: string
  latencyMs: number
  ok: boolean
}

/** Demo summary. */
export interface DemoReport {
  rows: DemoRow[]
  countsByDe39: Record<string, number>
  countsByReason: Record<string, number>
  latencyMs: ReturnType<typeof summarise>
  allAsExpected: boolean
  /** Scenarios not run (e.g. PIN scenarios without the dev link ZPK). */
  skipped: string[]
}

const devTls = new Agent({ connect: { rejectUnauthorized: false } })

/**
 * `pnpm cardplane sim demo`: against a running `pnpm start`, issue cards (as the operations console),
 * reveal them like a cardholder, fund their accounts, set states and controls, then send a mix of
 * approvals and every decline the demo covers over the Visa link; the last authorisation of each scenario
 * is the one expected to carry the scenario's DE 39. One scenario reverses its approval (0400 → 0410 / 00).
 */
export async function runDemo(opts: { port: number; host?: string; programId: string; keys: SimKeys; zpkName?: string; log: (m: string) => void }): Promise<DemoReport> {
  const c = consoleClients()
  const link = await VisaLinkClient.connect({ port: opts.port, ...(opts.host ? { host: opts.host } : {}), timeoutMs: 10_000 })
  const rows: DemoRow[] = []
  const skipped: string[] = []
  try {
    const signOn = await link.networkManagement('071')
    opts.log(`sign-on: ${String(signOn.message.fields['39'])}`)
    const run = Date.now().toString(36)
    for (const [i, sc] of SCENARIOS.entries()) {
      if (sc.auths.some((a) => a.kind === 'chip') && (!opts.keys.imkAc || !opts.keys.arqcProfile)) {
        opts.log(`${sc.name}: skipped (no dev IMK-AC copy in keyvault/DEV-ONLY-card-keys.json: a fresh \`pnpm start\` state creates it)`)
        skipped.push(sc.name)
        continue
      }
      if (sc.pin && (!opts.keys.zpk || !opts.zpkName)) {
        opts.log(`${sc.name}: skipped (no dev link ZPK; pnpm start's 40-visa-link step writes it)`)
        skipped.push(sc.name)
        continue
      }
      const issued = await c.cards.request<{ cards: { cardId: string; accountId: string }[] }>({ method: 'POST', path: '/v1/cards', body: { programId: opts.programId, customerId: `sim-demo-${run}-${i}` } })
      const { cardId, accountId } = issued.body.cards[0]!
      const session = await c.cards.request<{ jsonUrl: string }>({ method: 'POST', path: `/v1/cards/${cardId}/reveal-sessions` })
      const revealed = await fetchReveal(session.body.jsonUrl)
      const card: SimCard = { pan: revealed.pan, expiry: yymm(revealed), cvv2: revealed.cvv2 }
      if (sc.fund) await c.ledger.request({ method: 'POST', path: `/v1/accounts/${accountId}/credits`, body: { idempotencyKey: `sim-demo-${run}-${i}`, amount: { minor: sc.fund, currency: 'EUR' } } })
      if (sc.status || sc.controls) {
        await c.authorizations.request({
          method: 'PUT',
          path: `/v1/cards/${cardId}`,
          body: { accountId, programId: opts.programId, status: sc.status ?? 'active', currency: 'EUR', ...(sc.controls ? { controls: sc.controls } : {}) },
        })
      }
      if (sc.pin) {
        if (!opts.keys.zpk || !opts.zpkName) throw new Error('unreachable: PIN scenario without ZPK')
        const ps = await c.cards.request<{ jsonUrl: string }>({ method: 'POST', path: `/v1/cards/${cardId}/pin-sessions` })
        const res = await request(ps.body.jsonUrl, {
          method: 'POST',
          dispatcher: devTls,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ pinBlock: pinBlockUnder(opts.keys.zpk, card.pan, sc.pin), zpkName: opts.zpkName, pinBlockFormat: 0 }),
        })
        await res.body.text()
        if (res.statusCode !== 200) throw new Error(`PIN set failed (${res.statusCode})`)
        card.pin = sc.pin
      }
      for (const [j, a] of sc.auths.entries()) {
        const msg = authorizationRequest(card, opts.keys, {
          kind: a.kind,
          amountMinor: a.amountMinor,
          currency: 'EUR',
          mcc: a.mcc ?? '5411',
          country: 'DE',
          stan: link.nextStan(),
          transmissionTime: VisaLinkClient.transmissionTime(),
          ...(a.cvv2Wrong ? { cvv2: String((Number(card.cvv2) + 1) % 1000).padStart(3, '0') } : {}),
          ...(a.pin ? { pin: a.pin } : {}),
        })
        const ans = await link.send(msg)
        const de39 = String(ans.message.fields['39'])
        const last = j === sc.auths.length - 1
        const expected = last || sc.reason === 'approved' ? sc.expect : de39
        rows.push({ scenario: sc.name, reason: sc.thenReverse ? 'approved' : sc.reason, expected, de39, latencyMs: Math.round(ans.latencyMs * 100) / 100, ok: de39 === expected })
        if (last && sc.thenReverse) {
          const rev = await link.send(reversalRequest(msg, { stan: link.nextStan(), transmissionTime: VisaLinkClient.transmissionTime() }))
          const revDe39 = String(rev.message.fields['39'])
          rows.push({ scenario: `${sc.name} (0400)`, reason: sc.reason, expected: '00', de39: revDe39, latencyMs: Math.round(rev.latencyMs * 100) / 100, ok: revDe39 === '00' })
        }
      }
    }
    await link.networkManagement('072')
  } finally {
    await link.close()
    await c.close()
  }
  const countsByDe39: Record<string, number> = {}
  const countsByReason: Record<string, number> = {}
  for (const r of rows) {
    countsByDe39[r.de39] = (countsByDe39[r.de39] ?? 0) + 1
    const reason = r.ok ? r.reason : 'unexpected'
    countsByReason[reason] = (countsByReason[reason] ?? 0) + 1
  }
  return { rows, countsByDe39, countsByReason, latencyMs: summarise(rows.map((r) => r.latencyMs)), allAsExpected: rows.every((r) => r.ok), skipped }
}
