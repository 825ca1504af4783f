import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { InvalidRequestError } from '../domain/errors.js'

/**
 * Transit-engine cryptography (pure): AES-256-GCM with a 96-bit random nonce, ciphertexts in Vault's
 * `vault:v<version>:<base64(nonce ‖ ciphertext ‖ tag)>` form; HMAC-SHA-256 as `vault:v<version>:<base64>`.
 */
export function gcmEncrypt(keyHex: string, version: number, plaintext: Buffer, aad?: Buffer): string {
  const nonce = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), nonce)
  if (aad) c.setAAD(aad)
  const ct = Buffer.concat([c.update(plaintext), c.final()])
  return `vault:v${version}:${Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64')}`
}

/** Split a `vault:vN:...` string; 400 when malformed. */
export function parseVaultValue(value: string, field: string): { version: number; bytes: Buffer } {
  const m = /^vault:v(\d{1,9}):([A-Za-z0-9+/]*={0,2})$/.exec(value)
  if (!m || !m[1] || m[2] === undefined || m[2].length % 4 !== 0) {
    throw new InvalidRequestError('invalid_ciphertext', `${field} must look like vault:v<version>:<base64>`, { field })
  }
  return { version: Number(m[1]), bytes: Buffer.from(m[2], 'base64') }
}

export function gcmDecrypt(keyHex: string, bytes: Buffer, aad?: Buffer): Buffer {
  if (bytes.length < 12 + 16) throw new InvalidRequestError('invalid_ciphertext', 'ciphertext is too short')
  try {
    const d = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), bytes.subarray(0, 12))
    if (aad) d.setAAD(aad)
    d.setAuthTag(bytes.subarray(bytes.length - 16))
    return Buffer.concat([d.update(bytes.subarray(12, bytes.length - 16)), d.final()])
  } catch {
    throw new InvalidRequestError('decryption_failed', 'ciphertext failed authentication (wrong key, version, associated data or tampered)')
  }
}

export function hmacValue(keyHex: string, version: number, input: Buffer): string {
  return `vault:v${version}:${createHmac('sha256', Buffer.from(keyHex, 'hex')).update(input).digest('base64')}`
}

export function hmacMatches(keyHex: string, input: Buffer, mac: Buffer): boolean {
  const expected = createHmac('sha256', Buffer.from(keyHex, 'hex')).update(input).digest()
  return mac.length === expected.length && timingSafeEqual(mac, expected)
}
