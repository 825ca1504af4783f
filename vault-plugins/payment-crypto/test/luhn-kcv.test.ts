import t from 'tap'
import fc from 'fast-check'
import { cmac, isLuhnValid, kcv, luhnCheckDigit } from '../src/index.js'
import { changeDigit, digits, hexBytes } from './helpers.js'

void t.test('Luhn: known numbers', async (t) => {
  // Wikipedia "Luhn algorithm": account 7992739871 has check digit 3.
  t.equal(luhnCheckDigit('7992739871'), '3')
  t.ok(isLuhnValid('79927398713'))
  t.notOk(isLuhnValid('79927398710'))
  // Visa's published test card 4111 1111 1111 1111.
  t.equal(luhnCheckDigit('411111111111111'), '1')
  t.ok(isLuhnValid('4111111111111111'))
  t.notOk(isLuhnValid('4111111111111112'))
  t.notOk(isLuhnValid('41111111111111a1'), 'non-digits are invalid, not an exception')
  t.throws(() => luhnCheckDigit('12a'), { code: 'invalid_pan' })
})

void t.test('Luhn properties: appended check digit validates; any single-digit change breaks it', async (t) => {
  fc.assert(
    fc.property(digits(11, 18), fc.nat(), fc.nat(), (partial, i, d) => {
      const full = partial + luhnCheckDigit(partial)
      return isLuhnValid(full) && !isLuhnValid(changeDigit(full, i, d))
    }),
  )
  t.pass('properties held')
})

void t.test('KCV: TDES encrypts zeros, AES uses CMAC of zeros', async (t) => {
  // DES known answer: E_0123456789ABCDEF(0000000000000000) = D5D44FF720683D0D.
  t.equal(kcv('0123456789ABCDEF', { algorithm: 'tdes' }), 'D5D44F')
  t.equal(kcv('0123456789abcdef', { algorithm: 'tdes', length: 16 }), 'D5D44FF720683D0D')
  // pyemv tests/test_kd_hsm.py: KCV of 0123456789ABCDEFFEDCBA9876543210 starts 08D7.
  t.equal(kcv('0123456789ABCDEFFEDCBA9876543210', { algorithm: 'tdes', length: 4 }), '08D7')
  // AES: AWS Payment Cryptography / X9.24-1 convention, leftmost 3 bytes of AES-CMAC(K, 0^16);
  // CMAC itself is pinned to NIST SP 800-38B vectors in mac.test.ts.
  fc.assert(
    fc.property(fc.constantFrom(16, 24, 32).chain(hexBytes), (key) => {
      return kcv(key, { algorithm: 'aes' }) === cmac({ key, data: '00'.repeat(16), algorithm: 'aes' }).slice(0, 6)
    }),
  )
  t.not(kcv('00112233445566778899AABBCCDDEEFF', { algorithm: 'aes' }), kcv('00112233445566778899AABBCCDDEEFE', { algorithm: 'aes' }))
  t.throws(() => kcv('0011', { algorithm: 'aes' }), { code: 'invalid_key_length' })
  t.throws(() => kcv('0123456789ABCDEF', { algorithm: 'tdes', length: 17 }), { code: 'invalid_argument' })
  t.throws(() => kcv('0123456789ABCDEF', { algorithm: 'rsa' as 'aes' }), { code: 'invalid_argument' })
})
