import { createCipheriv, createDecipheriv } from 'node:crypto'
import { PaymentCryptoError } from './errors.js'

// OpenSSL 3 moved single DES to the legacy provider, so every DES operation here goes through
// des-ede3 (EDE with K1=K2=K3 is single DES; with K1=K3 it is two-key TDES).

const ZERO_IV8 = Buffer.alloc(8)
const ZERO_IV16 = Buffer.alloc(16)

/** Expands an 8/16/24-byte DES key to the 24 bytes des-ede3 wants: K‖K‖K, K1‖K2‖K1, or as is. */
export function tdesKey(key: Buffer): Buffer {
  switch (key.length) {
    case 24:
      return key
    case 16:
      return Buffer.concat([key, key.subarray(0, 8)])
    case 8:
      return Buffer.concat([key, key, key])
    default:
      throw new PaymentCryptoError('invalid_key_length', 'DES key must be 8, 16 or 24 bytes long', 'key')
  }
}

function aesName(key: Buffer, mode: 'ecb' | 'cbc'): string {
  switch (key.length) {
    case 16:
      return `aes-128-${mode}`
    case 24:
      return `aes-192-${mode}`
    case 32:
      return `aes-256-${mode}`
    default:
      throw new PaymentCryptoError('invalid_key_length', 'AES key must be 16, 24 or 32 bytes long', 'key')
  }
}

function run(cipher: { update(b: Buffer): Buffer; setAutoPadding(p: boolean): unknown }, data: Buffer): Buffer {
  cipher.setAutoPadding(false)
  // Without padding every aligned update() returns all its output, so final() would only cost a
  // native call to return nothing; the context is released when the object is collected.
  return cipher.update(data)
}

/** A reusable ECB transform under one key: each call processes whole blocks independently. */
export type EcbFn = (data: Buffer) => Buffer

/**
 * Creates a reusable TDES-ECB encryptor (or decryptor). ECB keeps no state between blocks, so one
 * OpenSSL context serves any number of calls — creating a context costs far more than using it.
 */
export function tdesEcb(key: Buffer, decrypt = false): EcbFn {
  const k = tdesKey(key)
  const c = decrypt ? createDecipheriv('des-ede3-ecb', k, null) : createCipheriv('des-ede3-ecb', k, null)
  c.setAutoPadding(false)
  return (data) => c.update(data)
}

/** TDES-ECB encrypt (key 8/16/24 bytes, data a multiple of 8). */
export function tdesEcbEncrypt(key: Buffer, data: Buffer): Buffer {
  return run(createCipheriv('des-ede3-ecb', tdesKey(key), null), data)
}

/** TDES-ECB decrypt. */
export function tdesEcbDecrypt(key: Buffer, data: Buffer): Buffer {
  return run(createDecipheriv('des-ede3-ecb', tdesKey(key), null), data)
}

/** TDES-CBC encrypt with an 8-byte IV (zeros by default). */
export function tdesCbcEncrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV8): Buffer {
  return run(createCipheriv('des-ede3-cbc', tdesKey(key), iv), data)
}

/** TDES-CBC decrypt. */
export function tdesCbcDecrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV8): Buffer {
  return run(createDecipheriv('des-ede3-cbc', tdesKey(key), iv), data)
}

/** AES-ECB encrypt (data a multiple of 16). */
export function aesEcbEncrypt(key: Buffer, data: Buffer): Buffer {
  return run(createCipheriv(aesName(key, 'ecb'), key, null), data)
}

/** AES-ECB decrypt. */
export function aesEcbDecrypt(key: Buffer, data: Buffer): Buffer {
  return run(createDecipheriv(aesName(key, 'ecb'), key, null), data)
}

/** AES-CBC encrypt with a 16-byte IV (zeros by default). */
export function aesCbcEncrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV16): Buffer {
  return run(createCipheriv(aesName(key, 'cbc'), key, iv), data)
}

/** AES-CBC decrypt. */
export function aesCbcDecrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV16): Buffer {
  return run(createDecipheriv(aesName(key, 'cbc'), key, iv), data)
}

/** Sets odd parity on every byte of a DES key (EMV derived keys are parity-adjusted). */
export function adjustParity(key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(key.length)
  for (let i = 0; i < key.length; i++) {
    const b = (key[i] ?? 0) & 0xfe
    let ones = 0
    for (let v = b; v; v >>= 1) ones += v & 1
    out[i] = ones % 2 === 0 ? b | 1 : b
  }
  return out
}
