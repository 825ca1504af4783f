import t from 'tap'
import { inspect } from 'node:util'
import { AuthorizationRequest, checkContract } from '@cardplane/contracts'
import { visaToUnified, VisaFormatError, transmissionTime } from '../src/to-unified.js'
import { ecommerce0100, TEST_PAN } from './fixtures.js'

const now = new Date('2026-11-22T02:40:05Z')

t.test('an e-commerce 0100 maps to a valid unified request once the card fields are added', async (t) => {
  const { draft, envelope, duplicateKey, chip } = visaToUnified(ecommerce0100(), now)
  const request = {
    ...draft,
    authorizationId: duplicateKey,
    cardId: 'card_test_1',
    lastFour: envelope.lastFour,
    verification: { cvv: 'not_present', cvv2: 'match', icvv: 'not_present', pin: 'not_present', arqc: 'not_present', expiry: 'match' },
    receivedAt: now.toISOString(),
  }
  const checked = checkContract(AuthorizationRequest, request)
  t.ok(checked.ok, checked.ok ? 'valid' : JSON.stringify(checked.issues))
  t.equal(draft.messageClass, 'authorization')
  t.same(draft.amounts.transaction, { minor: 1250, currency: 'EUR' })
  t.equal(draft.merchant.country, 'DE')
  t.equal(draft.merchant.name, 'Example Grocery')
  t.equal(draft.merchant.city, 'Berlin')
  t.equal(draft.pos.ecommerce, true)
  t.equal(draft.pos.threeDs, 'authenticated')
  t.equal(draft.pos.cardPresent, false)
  t.equal(draft.network.transmissionTime, '2026-11-22T02:40:00.000Z')
  t.equal(draft.network.schemeTransactionId, '381234567890123')
  t.equal(duplicateKey, 'visa:400050:1122024000:000123')
  t.equal(chip, false)
  t.equal(envelope.reveal().pan, TEST_PAN)
  t.equal(envelope.reveal().cvv2, '123')
  t.equal(envelope.reveal().expiry, '2811')
  t.equal(envelope.lastFour, '7899')
  t.notMatch(JSON.stringify(request), TEST_PAN, 'the unified request carries no PAN')
})

t.test('the sensitive envelope never renders its values', async (t) => {
  const { envelope } = visaToUnified(ecommerce0100(), now)
  for (const rendered of [JSON.stringify({ envelope }), inspect(envelope), String(envelope), `${inspect({ nested: { envelope } })}`]) {
    t.notMatch(rendered, TEST_PAN)
    t.notMatch(rendered, '123"')
  }
})

t.test('chip data, PIN block and track 2 go to the envelope', async (t) => {
  const emv = Buffer.from('9F260811223344556677889F360200019F3704AABBCCDD', 'hex')
  const msg = ecommerce0100({
    '2': undefined,
    '14': undefined,
    '22': '0510',
    '25': '00',
    '60.8': undefined,
    '126.10': undefined,
    '35': `${TEST_PAN}=28112010000000000`,
    '52': Buffer.from('0123456789ABCDEF', 'hex'),
    '53': '2001010100000000',
    '55': emv,
  })
  const { draft, envelope, chip } = visaToUnified(msg, now)
  const e = envelope.reveal()
  t.equal(e.pan, TEST_PAN)
  t.equal(e.expiry, '2811')
  t.equal(e.serviceCode, '201')
  t.equal(e.pinBlock, '0123456789ABCDEF')
  t.equal(e.pinBlockFormat, 0)
  t.same(e.emv, { '9F26': '1122334455667788', '9F36': '0001', '9F37': 'AABBCCDD' })
  t.equal(chip, true)
  t.equal(draft.pos.entryMode, 'chip')
  t.equal(draft.pos.pinEntered, true)
  t.equal(draft.pos.cardPresent, true)
  t.equal(draft.pos.terminalType, 'pos')
})

t.test('missing and malformed fields are format errors naming the field, never the value', async (t) => {
  const cases: [Record<string, string | undefined>, string][] = [
    [{ '11': undefined }, '11'],
    [{ '4': '00000000012X' }, '4'],
    [{ '49': '999' }, '4'],
    [{ '7': '1399999999' }, '7'],
    [{ '18': '54' }, '18'],
    [{ '2': '4000' }, '2'],
    [{ '126.10': '11 12a' }, '126.10'],
  ]
  for (const [overrides, field] of cases) {
    const err = t.throws(() => visaToUnified(ecommerce0100(overrides), now)) as unknown
    t.ok(err instanceof VisaFormatError, `DE ${field}`)
    t.equal((err as VisaFormatError).field, field)
    t.notMatch((err as Error).message, TEST_PAN)
  }
})

t.test('DE 7 gets the year nearest to the receipt time', async (t) => {
  t.equal(transmissionTime('1231235959', new Date('2027-01-01T00:00:10Z')), '2026-12-31T23:59:59.000Z')
  t.equal(transmissionTime('0101000001', new Date('2026-12-31T23:59:59Z')), '2027-01-01T00:00:01.000Z')
})

t.test('balance inquiry and account verification message classes', async (t) => {
  t.equal(visaToUnified(ecommerce0100({ '3': '300000', '4': '000000000000' }), now).draft.messageClass, 'balance_inquiry')
  t.equal(visaToUnified(ecommerce0100({ '4': '000000000000', '25': '51' }), now).draft.messageClass, 'account_verification')
})
