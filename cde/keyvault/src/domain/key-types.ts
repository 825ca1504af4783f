import { createHmac } from 'node:crypto'
import { kcv as paymentKcv } from '@cardplane/payment-crypto'

/**
 * Key types and what each may be used for. Usage is bound to type at creation and enforced on every
 * operation: a CVK only computes card verification values, a ZPK only translates PIN blocks, and so
 * on (PCI PIN: one key, one purpose). The TR-31 usage/mode of use are what export writes in the key
 * block header and what import expects.
 */
export const KEY_TYPES = ['cvk', 'pvk', 'zpk', 'pek', 'zmk', 'kbpk', 'imk-ac', 'imk-smi', 'imk-cvc3', 'mac', 'aes256-gcm96', 'hmac'] as const
export type KeyType = (typeof KEY_TYPES)[number]

/** Operations a key can be used for. */
export type KeyOperation =
  | 'cvv'
  | 'cvc3'
  | 'pvv'
  | 'ibm3624'
  | 'pin-translate'
  | 'pin-verify-source'
  | 'pin-encrypt'
  | 'pin-decrypt'
  | 'wrap'
  | 'arqc'
  | 'smi'
  | 'mac'
  | 'encrypt'
  | 'hmac'

export type KeyAlgorithm = 'tdes' | 'aes' | 'hmac'

/** Static description of a key type. */
export interface KeySpec {
  type: KeyType
  description: string
  algorithms: Partial<Record<KeyAlgorithm, number[]>>
  defaultAlgorithm: KeyAlgorithm
  /** Default length in bytes for the default algorithm. */
  defaultLength: number
  operations: KeyOperation[]
  /** TR-31 key usage codes accepted on import; the first is written on export. */
  tr31Usages: string[]
  tr31ModeOfUse: string
}

const TDES_2 = [16]
const TDES_23 = [16, 24]
const AES_ALL = [16, 24, 32]

export const KEY_SPECS: Record<KeyType, KeySpec> = {
  cvk: { type: 'cvk', description: 'card verification key (CVV, CVV2, iCVV)', algorithms: { tdes: TDES_2 }, defaultAlgorithm: 'tdes', defaultLength: 16, operations: ['cvv'], tr31Usages: ['C0'], tr31ModeOfUse: 'C' },
  pvk: { type: 'pvk', description: 'PIN verification key (Visa PVV, IBM 3624)', algorithms: { tdes: TDES_23 }, defaultAlgorithm: 'tdes', defaultLength: 16, operations: ['pvv', 'ibm3624'], tr31Usages: ['V2', 'V1', 'V0'], tr31ModeOfUse: 'C' },
  zpk: { type: 'zpk', description: 'zone PIN key (PIN blocks on a link)', algorithms: { tdes: TDES_23, aes: AES_ALL }, defaultAlgorithm: 'tdes', defaultLength: 16, operations: ['pin-translate', 'pin-verify-source'], tr31Usages: ['P0'], tr31ModeOfUse: 'B' },
  // The issuer's PIN storage key: the only key a clear PIN may be encrypted under or come out of
  // (PIN-set pages, PIN reveal). Usable as a PIN block source/destination like a ZPK, never a link key.
  pek: { type: 'pek', description: 'PIN encryption key for PIN storage at the issuer (PIN set / PIN reveal)', algorithms: { aes: AES_ALL }, defaultAlgorithm: 'aes', defaultLength: 32, operations: ['pin-translate', 'pin-verify-source', 'pin-encrypt', 'pin-decrypt'], tr31Usages: ['P0'], tr31ModeOfUse: 'B' },
  zmk: { type: 'zmk', description: 'zone master key (key exchange)', algorithms: { tdes: TDES_23, aes: AES_ALL }, defaultAlgorithm: 'tdes', defaultLength: 16, operations: ['wrap'], tr31Usages: ['K0'], tr31ModeOfUse: 'B' },
  kbpk: { type: 'kbpk', description: 'TR-31 key block protection key', algorithms: { tdes: TDES_23, aes: AES_ALL }, defaultAlgorithm: 'aes', defaultLength: 32, operations: ['wrap'], tr31Usages: ['K1'], tr31ModeOfUse: 'B' },
  'imk-ac': { type: 'imk-ac', description: 'issuer master key for application cryptograms', algorithms: { tdes: TDES_2 }, defaultAlgorithm: 'tdes', defaultLength: 16, operations: ['arqc'], tr31Usages: ['E0'], tr31ModeOfUse: 'X' },
  'imk-smi': { type: 'imk-smi', description: 'issuer master key for secure messaging integrity', algorithms: { tdes: TDES_2 }, defaultAlgorithm: 'tdes', defaultLength: 16, operations: ['smi'], tr31Usages: ['E2'], tr31ModeOfUse: 'X' },
  'imk-cvc3': { type: 'imk-cvc3', description: 'issuer master key for CVC3 (dynamic numbers)', algorithms: { tdes: TDES_2 }, defaultAlgorithm: 'tdes', defaultLength: 16, operations: ['cvc3'], tr31Usages: ['E4'], tr31ModeOfUse: 'X' },
  mac: { type: 'mac', description: 'message authentication key (retail MAC, CMAC)', algorithms: { tdes: TDES_23, aes: AES_ALL }, defaultAlgorithm: 'tdes', defaultLength: 16, operations: ['mac'], tr31Usages: ['M3', 'M1', 'M6', 'M0'], tr31ModeOfUse: 'C' },
  'aes256-gcm96': { type: 'aes256-gcm96', description: 'data encryption key (transit, AES-256-GCM)', algorithms: { aes: [32] }, defaultAlgorithm: 'aes', defaultLength: 32, operations: ['encrypt'], tr31Usages: ['D0'], tr31ModeOfUse: 'B' },
  hmac: { type: 'hmac', description: 'HMAC-SHA-256 key (transit hmac, keyed indexes)', algorithms: { hmac: [32] }, defaultAlgorithm: 'hmac', defaultLength: 32, operations: ['hmac'], tr31Usages: ['M7'], tr31ModeOfUse: 'C' },
}

export function isKeyType(v: unknown): v is KeyType {
  return typeof v === 'string' && (KEY_TYPES as readonly string[]).includes(v)
}

/** TR-31 algorithm letter. */
export function tr31Algorithm(alg: KeyAlgorithm): string {
  switch (alg) {
    case 'tdes':
      return 'T'
    case 'aes':
      return 'A'
    case 'hmac':
      return 'H'
  }
}

/**
 * Key check value shown at ceremonies and on metadata: TDES encrypt-zeros, AES CMAC of zeros
 * (payment-crypto's `kcv`); HMAC keys have no standard KCV, so the first 3 bytes of HMAC-SHA-256 of
 * 16 zero bytes are used.
 */
export function keyKcv(alg: KeyAlgorithm, keyHex: string): string {
  if (alg === 'hmac') return createHmac('sha256', Buffer.from(keyHex, 'hex')).update(Buffer.alloc(16)).digest('hex').slice(0, 6).toUpperCase()
  return paymentKcv(keyHex, { algorithm: alg })
}
