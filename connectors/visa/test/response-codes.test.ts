import t from 'tap'
import { DECLINE_REASONS } from '@cardplane/contracts'
import { visaResponseCodeFor, visaResponseCodeForDecision } from '../src/response-codes.js'

t.test('every internal reason maps to a declining DE 39', async (t) => {
  for (const reason of DECLINE_REASONS) {
    const code = visaResponseCodeFor(reason)
    t.match(code, /^[0-9A-Z]{2}$/, reason)
    t.not(code, '00', `${reason} never approves`)
    t.not(code, '10', `${reason} never partially approves`)
  }
})

t.test('the reasons the issue names get their Visa codes', async (t) => {
  const expected: Record<string, string> = {
    insufficient_funds: '51',
    card_frozen: '62',
    mcc_blocked: '57',
    limit_exceeded_transaction: '61',
    invalid_cvv: 'N7',
    invalid_pin: '55',
    pin_tries_exceeded: '75',
    card_expired: '54',
    invalid_cryptogram: '82',
    issuer_unavailable: '91',
  }
  for (const [reason, code] of Object.entries(expected)) t.equal(visaResponseCodeFor(reason as never), code, reason)
})

t.test('decisions map to 00, 85, 10 or the reason code', async (t) => {
  const base = { authorizationId: 'a1', source: 'issuer' as const, decidedAt: '2026-11-22T00:00:00Z' }
  const eur = (minor: number) => ({ minor, currency: 'EUR' })
  t.equal(visaResponseCodeForDecision({ ...base, outcome: 'approve', approvedAmount: eur(1) }), '00')
  t.equal(visaResponseCodeForDecision({ ...base, outcome: 'approve', approvedAmount: eur(0) }, true), '85')
  t.equal(visaResponseCodeForDecision({ ...base, outcome: 'partial', approvedAmount: eur(1), requestedAmount: eur(2) }), '10')
  t.equal(visaResponseCodeForDecision({ ...base, outcome: 'decline', reason: 'card_expired' }), '54')
})
