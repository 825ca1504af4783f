import fc from 'fast-check'

/** Arbitrary hex string of exactly `bytes` bytes, uppercase. */
export function hexBytes(bytes: number): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex').toUpperCase())
}

/** Arbitrary digit string with a length in [min, max]. */
export function digits(min: number, max: number): fc.Arbitrary<string> {
  return fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''))
}

/** Flips one bit of a hex string at a chosen bit index. */
export function flipBit(hex: string, bit: number): string {
  const buf = Buffer.from(hex, 'hex')
  const i = Math.floor(bit / 8) % buf.length
  buf[i] = (buf[i] ?? 0) ^ (1 << bit % 8)
  return buf.toString('hex').toUpperCase()
}

/** Changes one digit of a digit string to a different digit. */
export function changeDigit(value: string, index: number, delta: number): string {
  const i = index % value.length
  const d = (Number(value[i]) + 1 + (delta % 9)) % 10
  return value.slice(0, i) + String(d) + value.slice(i + 1)
}

/** Flips one key bit that DES actually uses (DES ignores the low "parity" bit of every byte). */
export function flipKeyBit(hex: string, n: number): string {
  const bytes = hex.length / 2
  const byte = n % bytes
  const bit = 1 + (Math.floor(n / bytes) % 7)
  return flipBit(hex, byte * 8 + bit)
}
