/**
 * Envelope encryption of card records: AES-256-GCM under a data key that the key service generated
 * and wrapped (only the wrapped form is stored; the plaintext key lives in memory). The card ID is
 * bound as associated data, so a ciphertext copied onto another card's row fails authentication.
 * Layout: 1-byte format version | 12-byte IV | 16-byte tag | ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

const FORMAT = 1

/** Thrown when a record cannot be decrypted (wrong key, wrong card, tampered). Carries no data. */
export class EnvelopeError extends Error {
  readonly code = 'envelope_decrypt_failed'
  constructor() {
    super('card record failed authentication')
  }
}

function aad(cardId: string): Buffer {
  return Buffer.from(`cardplane/card-record/v${FORMAT}/${cardId}`, 'utf8')
}

/** Encrypt `plaintext` for `cardId` under a 32-byte data key. */
export function sealRecord(key: Buffer, cardId: string, plaintext: Buffer): Buffer {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad(cardId))
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), ct])
}

/** Decrypt a record sealed by {@link sealRecord}; throws EnvelopeError on any mismatch. */
export function openRecord(key: Buffer, cardId: string, sealed: Buffer): Buffer {
  if (sealed.length < 29 || sealed[0] !== FORMAT) throw new EnvelopeError()
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13))
    decipher.setAAD(aad(cardId))
    decipher.setAuthTag(sealed.subarray(13, 29))
    return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()])
  } catch {
    throw new EnvelopeError()
  }
}
