import t from 'tap'
import fc from 'fast-check'
import { createPvvContext, ibm3624Offset, ibm3624Pin, pvv, verifyIbm3624, verifyPvv } from '../src/index.js'
import { changeDigit, digits, hexBytes } from './helpers.js'

const PVK = '0123456789ABCDEFFEDCBA9876543210'

void t.test('Visa PVV known answers (psec tests/test_pin.py)', async (t) => {
  const cases: [string, string, string, string][] = [
    ['1', '4524', '1122334455667788', '8523'],
    ['2', '1912', '1122334455667788', '3244'],
    ['1', '0570', '1122334455667718', '3144'],
    ['1', '8299', '1122334455667708', '4422'],
  ]
  for (const [pvki, pin, pan, expected] of cases) {
    t.equal(pvv({ pvk: PVK, pan, pvki, pin }), expected, `PVKI ${pvki} PAN …${pan.slice(-4)}`)
    t.ok(verifyPvv({ pvk: PVK, pan, pvki, pin, pvv: expected }))
  }
  t.notOk(verifyPvv({ pvk: PVK, pan: '1122334455667788', pvki: '1', pin: '4525', pvv: '8523' }))
  t.notOk(verifyPvv({ pvk: PVK, pan: '1122334455667788', pvki: '1', pin: '4524', pvv: '85' }))
})

void t.test('IBM 3624 known answers (psec tests/test_pin.py, decimalisation table 1234567890123456)', async (t) => {
  const table = '1234567890123456'
  const cases: [string, string, number, number, string][] = [
    // offset, pin, validationStart, validationLength, pad
    ['0000', '4524', 0, 16, 'F'],
    ['1111', '5635', 0, 16, 'F'],
    ['6586', '0000', 0, 16, 'F'],
    ['7697', '1111', 0, 16, 'F'],
    ['7710', '1234', 0, 16, 'F'],
    ['0000', '5518', 0, 14, 'F'],
    ['0000', '3675', 1, 14, '1'],
    ['0000', '5550', 2, 14, '1'],
  ].map(([o, p, s, l, pad]) => [o, p, s, l, pad] as [string, string, number, number, string])
  for (const [offset, pin, validationStart, validationLength, pad] of cases) {
    const o = { pvk: PVK, pan: '1122334455667788', decimalizationTable: table, validationStart, validationLength, pad }
    t.equal(ibm3624Pin({ ...o, offset }), pin)
    t.equal(ibm3624Offset({ ...o, pin }), offset)
    t.ok(verifyIbm3624({ ...o, pin, offset }))
  }
  // Lowercase pad is the same digit (psec case with pad 'f').
  t.equal(ibm3624Pin({ pvk: PVK, pan: '1122334455667788', decimalizationTable: table, validationLength: 14, pad: 'f', offset: '0000' }), '5518')
  // validationData given directly equals the PAN-derived block.
  t.equal(ibm3624Pin({ pvk: PVK, validationData: '11223344556677FF', decimalizationTable: table, offset: '0000' }), '5518')
  t.throws(() => ibm3624Pin({ pvk: PVK, pan: '1122334455667788', decimalizationTable: '123456789012345A', offset: '0000' }), {
    code: 'invalid_decimalization_table',
  })
  t.throws(() => ibm3624Pin({ pvk: PVK, pan: '1122334455667788', validationStart: 1, validationLength: 16, offset: '0000' }), { code: 'invalid_argument' })
  t.throws(() => ibm3624Offset({ pvk: PVK, pan: '1122334455667788', pin: '123' }), { code: 'invalid_pin' })
})

void t.test('PIN verification properties', async (t) => {
  fc.assert(
    fc.property(hexBytes(16), digits(13, 19), digits(1, 1), digits(4, 4), fc.nat(), fc.nat(), (pvk, pan, pvki, pin, i, d) => {
      const value = pvv({ pvk, pan, pvki, pin })
      return /^\d{4}$/.test(value) && verifyPvv({ pvk, pan, pvki, pin, pvv: value }) && !verifyPvv({ pvk, pan, pvki, pin, pvv: changeDigit(value, i, d) })
    }),
  )
  fc.assert(
    fc.property(hexBytes(16), digits(12, 19), digits(4, 12), fc.nat(), fc.nat(), (pvk, pan, pin, i, d) => {
      const offset = ibm3624Offset({ pvk, pan, pin })
      // The offset maps exactly one PIN of its length to valid: any changed digit must fail.
      return (
        offset.length === pin.length &&
        ibm3624Pin({ pvk, pan, offset }) === pin &&
        verifyIbm3624({ pvk, pan, pin, offset }) &&
        !verifyIbm3624({ pvk, pan, pin: changeDigit(pin, i, d), offset })
      )
    }),
  )
  t.pass('properties held')
})

void t.test('createPvvContext gives the same answers as pvv/verifyPvv', async (t) => {
  const ctx = createPvvContext(PVK)
  t.equal(ctx.pvv({ pan: '1122334455667788', pvki: '1', pin: '4524' }), '8523')
  t.equal(ctx.pvv({ pan: '1122334455667788', pvki: '2', pin: '1912' }), '3244')
  t.ok(ctx.verifyPvv({ pan: '1122334455667708', pvki: '1', pin: '8299', pvv: '4422' }))
  t.notOk(ctx.verifyPvv({ pan: '1122334455667708', pvki: '1', pin: '8298', pvv: '4422' }))
})
