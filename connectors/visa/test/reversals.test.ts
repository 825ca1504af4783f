import t from 'tap'
import { DECLINE_REASONS } from '@cardplane/contracts'
import { newVisaHeader } from '@cardplane/iso8583'
import { VisaConnector } from '../src/connector.js'
import { acknowledgement } from '../src/responses.js'
import { reversalReasonOf, standInOutcomeOf, visaResponseCodeFor, VISA_DE39 } from '../src/response-codes.js'
import { parseOriginalDataElements, replacementAmountOf, visaReversal, visaStandInAdvice } from '../src/reversals.js'
import { VisaFormatError } from '../src/to-unified.js'
import { ecommerce0100, reversal0400, stipAdvice0120, TEST_PAN } from './fixtures.js'

const now = new Date('2026-11-22T02:40:15Z')
const connector = new VisaConnector()
const header = newVisaHeader('400000', '000001')
/** DE 60 as the wire carries it (the fixture's pre-split 60.8 is for mapping tests only). */
const wire60 = { '60.8': undefined, '60': Buffer.from('000000000500', 'hex') }

function formatErrorField(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof VisaFormatError) return err.field
    throw err
  }
  return undefined
}

t.test('DE 90: original MTI, STAN, DE 7 with its year, acquirer id as the original DE 32 spelt it', async (t) => {
  const o = parseOriginalDataElements(`0100000123112202400000000400050${'0'.repeat(11)}`, now, '400050')
  t.same(o, { mti: '0100', stan: '000123', transmissionTime: '2026-11-22T02:40:00.000Z', acquirerId: '400050' })
  // the reversal's own DE 32 keeps a leading zero the zero-filled DE 90 cannot show
  t.equal(parseOriginalDataElements(`0100000123112202400000000400050${'0'.repeat(11)}`, now, '0400050').acquirerId, '0400050')
  // another acquirer than the reversal's: DE 90's digits without the fill
  t.equal(parseOriginalDataElements(`0100000123112202400000000400077${'0'.repeat(11)}`, now, '400050').acquirerId, '400077')
  t.equal(parseOriginalDataElements(`0100000123112202400000000400050${'00000000033'}`, now).forwardingId, '33')
})

t.test('DE 90 year inference is DE 7s: nearest to the receipt time, across the new year', async (t) => {
  const newYear = new Date('2027-01-01T00:00:05Z')
  const o = parseOriginalDataElements(`0100000123123123595900000400050${'0'.repeat(11)}`, newYear)
  t.equal(o.transmissionTime, '2026-12-31T23:59:59.000Z', 'last year for a 31 Dec original received on 1 Jan')
  const back = parseOriginalDataElements(`0100000123010100000100000400050${'0'.repeat(11)}`, new Date('2026-12-31T23:59:58Z'))
  t.equal(back.transmissionTime, '2027-01-01T00:00:01.000Z', 'next year when the clocks straddle midnight the other way')
  const leap = parseOriginalDataElements(`0100000123022912000000000400050${'0'.repeat(11)}`, new Date('2028-03-01T00:00:00Z'))
  t.equal(leap.transmissionTime, '2028-02-29T12:00:00.000Z', '29 Feb only in a leap year')
})

t.test('a bad DE 90 is a format error on DE 90', async (t) => {
  const ok = `0100000123112202400000000400050${'0'.repeat(11)}`
  t.equal(formatErrorField(() => parseOriginalDataElements(ok.slice(0, 41), now)), '90', 'too short')
  t.equal(formatErrorField(() => parseOriginalDataElements(`${ok.slice(0, 41)}A`, now)), '90', 'not numeric')
  t.equal(formatErrorField(() => parseOriginalDataElements(`0100000123132202400000000400050${'0'.repeat(11)}`, now)), '90', 'month 13')
  t.equal(formatErrorField(() => parseOriginalDataElements(`0100000123113102400000000400050${'0'.repeat(11)}`, now)), '90', '31 November')
  t.equal(formatErrorField(() => parseOriginalDataElements(`0800000123112202400000000400050${'0'.repeat(11)}`, now)), '90', 'original is not an authorisation')
  t.equal(formatErrorField(() => parseOriginalDataElements(`01000001231122024000${'0'.repeat(22)}`, now)), '90', 'no acquirer')
  t.equal(formatErrorField(() => visaReversal(reversal0400({ '90': undefined }), now)), '90', 'missing')
})

t.test('DE 95: absent or zero → full; the billing amount → partial; transaction amount only in the same currency', async (t) => {
  t.equal(replacementAmountOf(reversal0400()), undefined)
  t.equal(replacementAmountOf(reversal0400({ '95': '0'.repeat(42) })), undefined)
  t.same(replacementAmountOf(reversal0400({ '95': `${'000000000500'}${'0'.repeat(12)}${'000000000500'}${'0'.repeat(6)}` })), { minor: 500, currency: 'EUR' })
  t.same(replacementAmountOf(reversal0400({ '95': `${'000000000700'}${'0'.repeat(24)}      ` })), { minor: 700, currency: 'EUR' }, 'transaction amount, no billing currency')
  // cross-currency: billing amount in DE 51
  const usd = { '49': '840', '6': '000000000900', '51': '978' }
  t.same(replacementAmountOf(reversal0400({ ...usd, '95': `${'000000000800'}${'0'.repeat(12)}${'000000000720'}${'0'.repeat(6)}` })), { minor: 720, currency: 'EUR' })
  t.equal(formatErrorField(() => replacementAmountOf(reversal0400({ ...usd, '95': `${'000000000800'}${'0'.repeat(30)}` }))), '95', 'cannot convert')
  t.equal(formatErrorField(() => replacementAmountOf(reversal0400({ '95': `0000000005AB${'0'.repeat(30)}` }))), '95', 'not numeric')
  const r = visaReversal(reversal0400({ '95': `${'000000000500'}${'0'.repeat(12)}${'000000000500'}${'0'.repeat(6)}` }), now)
  t.equal(r.kind, 'partial')
  t.equal(visaReversal(reversal0400(), now).kind, 'full')
})

t.test('reversal reason from its DE 39, else other', async (t) => {
  t.equal(reversalReasonOf('68'), 'late_response')
  t.equal(reversalReasonOf('17'), 'customer_cancellation')
  t.equal(reversalReasonOf('32'), 'partial_dispense')
  t.equal(reversalReasonOf('96'), 'system_error')
  t.equal(reversalReasonOf(undefined), 'other')
  t.equal(reversalReasonOf('00'), 'other')
  t.equal(visaReversal(reversal0400({ '39': '68' }), now).reason, 'late_response')
})

t.test('0400 maps to a reversal request; 0420 and its 0421 repeat to the same advice key', async (t) => {
  const req = visaReversal(reversal0400(), now)
  t.equal(req.advice, false)
  t.same(req.original, { mti: '0100', stan: '000123', transmissionTime: '2026-11-22T02:40:00.000Z', acquirerId: '400050' })
  t.same(req.self, { acquirerId: '400050', stan: '000124', transmissionTime: '2026-11-22T02:40:10.000Z' })
  t.equal(req.duplicateKey, 'visa-rev:400050:1122024010:000124')
  t.equal(req.envelope.reveal().pan, TEST_PAN)
  t.same(Object.keys(req.envelope.reveal()).sort(), ['expiry', 'pan'], 'PAN and expiry only')
  t.notMatch(JSON.stringify({ ...req, envelope: req.envelope }), TEST_PAN, 'no PAN in the mapped reversal outside the envelope')
  const adv = visaReversal(reversal0400({}, '0420'), now)
  const rep = visaReversal(reversal0400({}, '0421'), now)
  t.equal(adv.advice, true)
  t.equal(rep.advice, true)
  t.equal(rep.duplicateKey, adv.duplicateKey)
  t.same(rep.self, adv.self)
  for (const f of ['2', '4', '7', '11', '32', '49'])
    t.equal(formatErrorField(() => visaReversal(reversal0400({ [f]: undefined }), now)), f, `DE ${f} missing`)
})

t.test('reversals over the wire: 0400/0420/0421 parsed, answered 0410/0430, malformed → 30', async (t) => {
  for (const mti of ['0400', '0401', '0420', '0421']) {
    const r = connector.parse(connector.encodeRequest(header, reversal0400({ '95': `${'000000000500'}${'0'.repeat(12)}${'000000000500'}${'0'.repeat(6)}` }, mti)), now)
    if (r.kind !== 'reversal') throw new Error(`expected reversal, got ${r.kind}`)
    t.equal(r.reversal.kind, 'partial', mti)
    t.same(r.reversal.replacementAmount, { minor: 500, currency: 'EUR' })
    const back = connector.decodeAny(connector.encodeResponse(r.header, acknowledgement(r.request, VISA_DE39.approved)))
    t.equal(back.message.mti, mti.startsWith('040') ? '0410' : '0430', `${mti} answered`)
    t.equal(back.message.fields['39'], '00')
    t.equal(back.message.fields['11'], '000124')
    t.equal(back.message.fields['2'], TEST_PAN, 'PAN echoed back to Visa on the link')
  }
  const bad = connector.parse(connector.encodeRequest(header, reversal0400({ '90': `0100000123132202400000000400050${'0'.repeat(11)}` })), now)
  if (bad.kind !== 'answer') throw new Error(`expected answer, got ${bad.kind}`)
  t.equal(bad.de39, '30')
  t.equal(bad.problem, 'visa_format@90')
  const back = connector.decodeAny(bad.response)
  t.equal(back.message.mti, '0410')
  t.equal(back.message.fields['39'], '30')
  const noOriginal = connector.parse(connector.encodeRequest(header, reversal0400({ '90': undefined }, '0420')), now)
  t.equal(noOriginal.kind === 'answer' ? connector.decodeAny(noOriginal.response).message.mti : noOriginal.kind, '0430', '0420 without DE 90 → 0430/30')
})

t.test('0120 STIP advices: outcome from DE 39, amounts, STIP reason, card lookup envelope only', async (t) => {
  const ok = visaStandInAdvice(stipAdvice0120('00'), now)
  t.equal(ok.outcome, 'approve')
  t.same(ok.approvedAmount, { minor: 1250, currency: 'EUR' })
  t.equal(ok.standInReason, 'issuer_timeout')
  t.same(ok.authorization, { acquirerId: '400050', stan: '000123', transmissionTime: '2026-11-22T02:40:00.000Z' }, 'the 0100s own ids')
  t.equal(ok.duplicateKey, 'visa-adv:400050:1122024000:000123')
  t.same(Object.keys(ok.auth.envelope.reveal()).sort(), ['expiry', 'pan'], 'no CVV2 kept for an advice')
  const partial = visaStandInAdvice(stipAdvice0120('10', { '4': '000000000800', '6': '000000000700', '51': '978' }), now)
  t.equal(partial.outcome, 'partial')
  t.same(partial.approvedAmount, { minor: 700, currency: 'EUR' }, 'DE 6 when present')
  const declined = visaStandInAdvice(stipAdvice0120('51', { '63.4': '9011' }), now)
  t.same({ outcome: declined.outcome, reason: declined.reason, why: declined.standInReason, amount: declined.approvedAmount }, { outcome: 'decline', reason: 'insufficient_funds', why: 'line_down', amount: undefined })
  t.equal(visaStandInAdvice(stipAdvice0120('05', { '63.4': undefined }), now).standInReason, 'other')
  const withDe90 = visaStandInAdvice(stipAdvice0120('00', { '11': '000555', '90': `0100000123112202400000000400050${'0'.repeat(11)}` }), now)
  t.equal(withDe90.authorization.stan, '000123', 'DE 90 names the authorisation when present')
  t.equal(formatErrorField(() => visaStandInAdvice(stipAdvice0120('00', { '39': undefined }), now)), '39', 'no DE 39')
  t.equal(formatErrorField(() => visaStandInAdvice(stipAdvice0120('00', { '4': undefined }), now)), '4', 'no amount')

  for (const mti of ['0120', '0121']) {
    const r = connector.parse(connector.encodeRequest(header, { ...stipAdvice0120('00', wire60), mti }), now)
    if (r.kind !== 'stand_in_advice') throw new Error(`expected stand_in_advice, got ${r.kind}`)
    const back = connector.decodeAny(connector.encodeResponse(r.header, acknowledgement(r.request, VISA_DE39.approved)))
    t.equal(back.message.mti, '0130', `${mti} answered 0130`)
    t.equal(back.message.fields['39'], '00')
  }
  const bad = connector.parse(connector.encodeRequest(header, { ...stipAdvice0120('00', { ...wire60, '39': undefined }) }), now)
  t.equal(bad.kind === 'answer' ? bad.de39 : bad.kind, '30', '0120 without DE 39 → 30')
})

t.test('the inverse DE 39 mapping: every decline code comes back to itself', async (t) => {
  for (const reason of DECLINE_REASONS) {
    const code = visaResponseCodeFor(reason)
    const back = standInOutcomeOf(code)
    if (back.outcome !== 'decline') throw new Error(`${code} read as ${back.outcome}`)
    t.equal(visaResponseCodeFor(back.reason), code, `${reason} → ${code} → ${back.reason}`)
  }
  t.same(standInOutcomeOf('00'), { outcome: 'approve' })
  t.same(standInOutcomeOf('85'), { outcome: 'approve' })
  t.same(standInOutcomeOf('10'), { outcome: 'partial' })
  t.same(standInOutcomeOf('43'), { outcome: 'decline', reason: 'card_lost_stolen' })
  t.same(standInOutcomeOf('05'), { outcome: 'decline', reason: 'invalid_transaction' })
  t.same(standInOutcomeOf('Q1'), { outcome: 'decline', reason: 'invalid_transaction' }, 'a code outside the table')
})

t.test('other MTIs are still answered 12', async (t) => {
  const r = connector.parse(connector.encodeRequest(header, { mti: '0600', fields: { '7': '1122024000', '11': '000999' } }), now)
  t.equal(r.kind === 'answer' ? r.de39 : r.kind, '12')
  void ecommerce0100
})
