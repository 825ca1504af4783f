import t from 'tap'
import fc from 'fast-check'
import {
  PaymentCryptoError,
  cvv,
  decodePinBlock,
  encodePinBlock,
  iccMasterKey,
  isPaymentCryptoError,
  pvv,
  tr31Unwrap,
  verifyArqcProfile,
} from '../src/index.js'
import { digits, hexBytes } from './helpers.js'

/** Runs fn, expects a PaymentCryptoError, and returns its message. */
function messageOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (!isPaymentCryptoError(err)) throw err
    return err.message
  }
  throw new Error('expected a PaymentCryptoError')
}

/** True when no 6-character run of any secret appears in the message. */
function leaks(message: string, secrets: string[]): boolean {
  const m = message.toUpperCase()
  return secrets.some((s) => {
    const u = s.toUpperCase()
    for (let i = 0; i + 6 <= u.length; i++) if (m.includes(u.slice(i, i + 6))) return true
    return false
  })
}

void t.test('PaymentCryptoError carries a stable code and field, and is not retryable', async (t) => {
  const err = new PaymentCryptoError('invalid_pan', 'pan must be 12-19 digits', 'pan')
  t.equal(err.code, 'invalid_pan')
  t.equal(err.field, 'pan')
  t.equal(err.retry, false)
  t.equal(err.name, 'PaymentCryptoError')
  t.ok(err instanceof Error)
})

void t.test('errors never echo keys, PANs, PINs or blocks', async (t) => {
  fc.assert(
    fc.property(hexBytes(16), digits(13, 19), digits(4, 12), (key, pan, pin) => {
      const messages = [
        messageOf(() => cvv({ cvk: key + 'Z', pan, expiry: '2512', serviceCode: '101' })),
        messageOf(() => cvv({ cvk: key, pan: pan + 'X', expiry: '2512', serviceCode: '101' })),
        messageOf(() => cvv({ cvk: key.slice(2), pan, expiry: '2512', serviceCode: '101' })),
        messageOf(() => pvv({ pvk: key, pan, pvki: '1', pin: pin + 'A' })),
        messageOf(() => encodePinBlock({ format: 0, pin, pan: pan.slice(0, 12) })),
        messageOf(() => decodePinBlock({ format: 2, block: '2F' + key.slice(2, 16) })),
        messageOf(() => iccMasterKey({ imk: key, pan: pan + pan, option: 'A' })),
        messageOf(() => verifyArqcProfile({ profile: 'visa-cvn18', imk: key, pan, atc: '00', cdolData: '', arqc: key })),
        messageOf(() => tr31Unwrap({ kbpk: key, keyBlock: 'B0080P0TE00N0000' + key + key.slice(0, 32) })),
      ]
      return messages.every((m) => !leaks(m, [key, pan, pin]))
    }),
    { numRuns: 100 },
  )
  t.pass('no message contained input material')
})
