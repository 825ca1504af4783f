import t from 'tap'
import { randomBytes } from 'node:crypto'
import { luhnCheckDigit, luhnValid } from '../src/domain/luhn.js'
import { accountForSequence, panForSequence, permutationMultiplier, validateRange } from '../src/domain/pan-allocation.js'
import { openRecord, sealRecord } from '../src/domain/envelope.js'
import { isCardId, newCardId } from '../src/domain/card-id.js'
import { expiryFor, expiryValid, parseYymm, yymm } from '../src/domain/expiry.js'
import { hashRevealToken, isRevealToken, newRevealToken } from '../src/domain/reveal-token.js'
import { arqcData } from '../src/vault/card-vault.js'
import { ARQC_PROFILES, COMMON_AC_TAGS, cryptogramData, type CryptogramTags } from '@cardplane/payment-crypto'

t.test('Luhn check digits match known card numbers', async (t) => {
  t.equal(luhnCheckDigit('411111111111111'), '1')
  t.equal(luhnCheckDigit('555555555555444'), '4')
  t.equal(luhnCheckDigit('37828224631000'), '5')
  t.ok(luhnValid('4111111111111111'))
  t.notOk(luhnValid('4111111111111112'))
})

t.test('the permutation maps a whole range one to one, PANs are Luhn-valid and in the BIN', async (t) => {
  const range = { bin: '45399100', panLength: 16, accountStart: '1000', size: 5000n }
  validateRange(range)
  const seen = new Set<string>()
  for (let i = 0n; i < range.size; i++) {
    const pan = panForSequence(range, i)
    if (pan.length !== 16 || !pan.startsWith('45399100') || !luhnValid(pan)) t.fail(`bad PAN at ${i}`)
    const account = Number(accountForSequence(range, i))
    if (account < 1000 || account >= 6000) t.fail(`account outside range at ${i}`)
    seen.add(pan)
  }
  t.equal(seen.size, 5000, 'no two sequence numbers give the same PAN')
  t.not(panForSequence(range, 0n).slice(8, 15), '0001000', 'first PAN is not simply the range start')
  t.throws(() => accountForSequence(range, 5000n), { code: 'pan_range_invalid' })
  for (const size of [1n, 2n, 10n, 1000n, 9999999n]) t.equal(Number(gcdCheck(permutationMultiplier(size), size)), 1)
  t.throws(() => validateRange({ bin: '4539', panLength: 16, accountStart: '0', size: 1n }), { code: 'pan_range_invalid' })
  t.throws(() => validateRange({ bin: '453991', panLength: 16, accountStart: '999999999', size: 2n }), { code: 'pan_range_invalid' })
})

function gcdCheck(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}

t.test('sealed records open only with the same key and card ID', async (t) => {
  const key = randomBytes(32)
  const sealed = sealRecord(key, 'card_a', Buffer.from('{"pan":"4111111111111111"}'))
  t.notOk(sealed.toString('latin1').includes('4111111111111111'))
  t.equal(openRecord(key, 'card_a', sealed).toString(), '{"pan":"4111111111111111"}')
  t.throws(() => openRecord(key, 'card_b', sealed), { code: 'envelope_decrypt_failed' }, 'AAD binds the card ID')
  t.throws(() => openRecord(randomBytes(32), 'card_a', sealed), { code: 'envelope_decrypt_failed' })
  const tampered = Buffer.from(sealed)
  tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1
  t.throws(() => openRecord(key, 'card_a', tampered), { code: 'envelope_decrypt_failed' })
})

t.test('card IDs are opaque and random; reveal tokens hash and check', async (t) => {
  const ids = new Set(Array.from({ length: 1000 }, () => newCardId()))
  t.equal(ids.size, 1000)
  for (const id of ids) if (!isCardId(id)) t.fail(id)
  const { token, hash } = newRevealToken()
  t.ok(isRevealToken(token))
  t.same(hashRevealToken(token), hash)
  t.notOk(isRevealToken('rvl_short'))
})

t.test('expiry arithmetic', async (t) => {
  const e = expiryFor(new Date('2026-11-22T00:00:00Z'), 36)
  t.same(e, { month: 11, year: 2029 })
  t.equal(yymm(e), '2911')
  t.same(parseYymm('2911'), e)
  t.equal(parseYymm('2913'), undefined)
  t.ok(expiryValid(e, new Date('2029-11-30T23:59:59Z')))
  t.notOk(expiryValid(e, new Date('2029-12-01T00:00:00Z')))
})

t.test('ARQC data: the key service verifies what the vault builds (one layout, @cardplane/emv)', async (t) => {
  // payment-crypto's cryptogramData is what its pyemv vectors are verified with: the vault must build the same.
  for (const profile of ARQC_PROFILES) {
    for (let i = 0; i < 20; i++) {
      const tags: Record<string, string> = {}
      for (const [tag, len] of COMMON_AC_TAGS) tags[tag] = randomBytes(len).toString('hex')
      tags['9F10'] = randomBytes(18 + (i % 15)).toString('hex')
      t.equal(arqcData(profile, tags), cryptogramData({ profile, tags: tags as CryptogramTags }), `${profile} #${i}`)
    }
  }
  // Data no cryptogram can cover: undefined (the check then fails), never an exception.
  const good = Object.fromEntries([...COMMON_AC_TAGS.map(([tag, len]) => [tag, '00'.repeat(len)]), ['9F10', '0601020304']])
  t.equal(arqcData('visa-cvn10', good), undefined, 'IAD too short for CVN 10')
  t.type(arqcData('visa-cvn18', good), 'string', 'CVN 18 takes the whole IAD')
  t.equal(arqcData('visa-cvn18', { ...good, '9F02': 'zz0000000000' }), undefined, 'not hex')
  t.equal(arqcData('visa-cvn18', { '9F02': '00' }), undefined, 'missing tags')
  t.equal(arqcData('nope', good), undefined, 'unknown profile')
})
