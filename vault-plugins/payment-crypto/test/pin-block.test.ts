import t from 'tap'
import fc from 'fast-check'
import {
  decodePinBlock,
  decryptPinBlock,
  encodePinBlock,
  encryptPinBlock,
  pinBlockPanField4,
  translatePinBlock,
  type PinBlockFormat,
} from '../src/index.js'
import { digits, flipBit, hexBytes } from './helpers.js'

void t.test('ISO 9564 format 0 known answers', async (t) => {
  // EFTlab "Complete list of PIN blocks" (ISO-0 example): PIN 1234, PAN 43219876543210987 → 0412AC89ABCDEF67.
  t.equal(encodePinBlock({ format: 0, pin: '1234', pan: '43219876543210987' }), '0412AC89ABCDEF67')
  t.equal(decodePinBlock({ format: 0, block: '0412ac89abcdef67', pan: '43219876543210987' }), '1234')
  // PIN 1234, PAN 4000001234562000: PIN field 041234FFFFFFFFFF ⊕ PAN field 0000000123456200.
  t.equal(encodePinBlock({ format: 0, pin: '1234', pan: '4000001234562000' }), '041234FEDCBA9DFF')
  // psec tests/test_pinblock.py: PAN 5555555551234567.
  t.equal(encodePinBlock({ format: 0, pin: '1234', pan: '5555555551234567' }), '041261AAAAEDCBA9')
  t.equal(encodePinBlock({ format: 0, pin: '123456789012', pan: '5555555551234567' }), '0C1261032D8226A9')
  t.equal(decodePinBlock({ format: 0, block: '091261032D8DCBA9', pan: '5555555551234567' }), '123456789')
})

void t.test('ISO 9564 formats 1, 2, 3 layout', async (t) => {
  // psec: format 2 is fully deterministic.
  t.equal(encodePinBlock({ format: 2, pin: '1234' }), '241234FFFFFFFFFF')
  t.equal(encodePinBlock({ format: 2, pin: '123456789012' }), '2C123456789012FF')
  const f1 = encodePinBlock({ format: 1, pin: '1234' })
  t.match(f1, /^141234[0-9A-F]{10}$/)
  t.equal(decodePinBlock({ format: 1, block: f1 }), '1234')
  // Format 3: same as 0 but the fill is random A-F; psec's fixed prefix 341261 for PAN 5555555551234567.
  const f3 = encodePinBlock({ format: 3, pin: '1234', pan: '5555555551234567' })
  t.match(f3, /^341261/)
  t.equal(decodePinBlock({ format: 3, block: f3, pan: '5555555551234567' }), '1234')
  t.equal(decodePinBlock({ format: 3, block: '341261AAAAEDCBA9', pan: '5555555551234567' }), '1234', 'psec format 3 block')
  t.not(encodePinBlock({ format: 1, pin: '1234' }), encodePinBlock({ format: 1, pin: '1234' }), 'random fill differs each time')
})

void t.test('ISO 9564-1:2017 format 4 (AES)', async (t) => {
  // psec tests/test_pinblock.py: PAN field for 112233445566778899.
  t.equal(pinBlockPanField4('112233445566778899'), '61122334455667788990000000000000')
  t.equal(pinBlockPanField4('123456789'), '00001234567890000000000000000000', 'short PAN: M = 0, left zero-filled to 12')
  // psec deterministic case: key 00112233445566778899AABBCCDDEEFF, PIN 1234, PAN 1234567890123456789,
  // random fill forced to FF → 28B41FDDD29B743E93124BD8E32D921E.
  const clear = '441234AAAAAAAAAAFFFFFFFFFFFFFFFF'
  const key = '00112233445566778899AABBCCDDEEFF'
  const pan = '1234567890123456789'
  t.equal(encryptPinBlock({ format: 4, key, clearBlock: clear, pan }), '28B41FDDD29B743E93124BD8E32D921E')
  t.equal(decryptPinBlock({ format: 4, key, block: '28B41FDDD29B743E93124BD8E32D921E', pan }), clear)
  t.equal(decodePinBlock({ format: 4, block: clear }), '1234')
  const encoded = encodePinBlock({ format: 4, pin: '1234' })
  t.match(encoded, /^441234A{10}[0-9A-F]{16}$/)
  // The PAN is bound: deciphering under another PAN gives a garbage block that fails decoding.
  const enc = encryptPinBlock({ format: 4, key, clearBlock: encoded, pan })
  t.throws(() => decodePinBlock({ format: 4, block: decryptPinBlock({ format: 4, key, block: enc, pan: '1234567890123456788' }) }), {
    code: 'invalid_pin_block',
  })
  t.throws(() => encryptPinBlock({ format: 4, key, clearBlock: clear }), { code: 'invalid_pan' })
  t.throws(() => encryptPinBlock({ format: 4, key: '0123456789ABCDEF', clearBlock: clear, pan }), { code: 'invalid_key_length' })
})

void t.test('decode rejects malformed clear blocks with invalid_pin_block', async (t) => {
  const pan = '5555555551234567'
  const bad: [PinBlockFormat, string][] = [
    [0, '241261AAAAEDCBA9'], // control field 2 in a format 0 block
    [0, '0F1261AAAAEDCBA9'], // length 15
    [0, '021261AAAAEDCBA9'], // length 2
    [0, '041261AAAAEDCBAA'], // fill not F
    [0, '051261AAAAEDCBA9'], // PIN digit F
    [2, '2C123456789012CF'], // fill not F
    [3, '341261AAAAEDCBA2'], // fill not A-F
    [4, '441234BAAAAAAAAAFFFFFFFFFFFFFFFF'], // fill not A
  ]
  for (const [format, block] of bad) {
    t.throws(() => decodePinBlock({ format, block, pan }), { code: 'invalid_pin_block' }, `format ${format}`)
  }
  t.throws(() => decodePinBlock({ format: 0, block: '041261AAAAEDCB', pan }), { code: 'invalid_argument' })
  t.throws(() => decodePinBlock({ format: 0, block: '041261AAAAEDCBA9', pan: '555555555123' }), { code: 'invalid_pan' })
  t.throws(() => encodePinBlock({ format: 0, pin: '123', pan }), { code: 'invalid_pin' })
  t.throws(() => encodePinBlock({ format: 0, pin: '1234567890123', pan }), { code: 'invalid_pin' })
  t.throws(() => encodePinBlock({ format: 5 as 0, pin: '1234', pan }), { code: 'unsupported_format' })
})

void t.test('error messages never contain the PIN or PAN', async (t) => {
  try {
    decodePinBlock({ format: 0, block: '051261AAAAEDCBA9', pan: '5555555551234567' })
    t.fail('expected an error')
  } catch (err) {
    const m = (err as Error).message
    t.notOk(/1234|5555555551234567|051261/.test(m), m)
  }
})

const formatArb = fc.constantFrom<PinBlockFormat>(0, 1, 2, 3, 4)

void t.test('PIN block properties: decode(encode) and decrypt(encrypt) are inverses; translate preserves the PIN', async (t) => {
  fc.assert(
    fc.property(formatArb, digits(4, 12), digits(13, 19), (format, pin, pan) => {
      return decodePinBlock({ format, block: encodePinBlock({ format, pin, pan }), pan }) === pin
    }),
  )
  fc.assert(
    fc.property(formatArb, digits(4, 12), digits(13, 19), hexBytes(16), hexBytes(32), (format, pin, pan, tdesKey, aesKey) => {
      const key = format === 4 ? aesKey : tdesKey
      const clearBlock = encodePinBlock({ format, pin, pan })
      const enc = encryptPinBlock({ format, key, clearBlock, pan })
      return enc !== clearBlock && decryptPinBlock({ format, key, block: enc, pan }) === clearBlock
    }),
  )
  fc.assert(
    // A 16-byte key serves as a double-length TDES key (formats 0-3) and as AES-128 (format 4).
    fc.property(formatArb, formatArb, digits(4, 12), digits(13, 19), hexBytes(16), hexBytes(16), (sf, df, pin, pan, sourceKey, destKey) => {
      const block = encryptPinBlock({ format: sf, key: sourceKey, clearBlock: encodePinBlock({ format: sf, pin, pan }), pan })
      const out = translatePinBlock({ sourceKey, destKey, block, sourceFormat: sf, destFormat: df, pan })
      return decodePinBlock({ format: df, block: decryptPinBlock({ format: df, key: destKey, block: out, pan }), pan }) === pin
    }),
  )
  t.pass('properties held')
})

void t.test('a one-bit change in an enciphered PIN block is detected or changes the PIN', async (t) => {
  fc.assert(
    fc.property(formatArb, digits(4, 12), digits(13, 19), hexBytes(16), fc.nat(127), (format, pin, pan, key, bit) => {
      const block = encryptPinBlock({ format, key, clearBlock: encodePinBlock({ format, pin, pan }), pan })
      const tampered = flipBit(block, bit)
      try {
        return decodePinBlock({ format, block: decryptPinBlock({ format, key, block: tampered, pan }), pan }) !== pin
      } catch (err) {
        return (err as { code?: string }).code === 'invalid_pin_block'
      }
    }),
  )
  t.pass('property held')
})
