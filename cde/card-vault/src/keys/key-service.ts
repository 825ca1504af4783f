/**
 * What the card vault asks of the key service (group 4). Card keys (CVK, PVK, ZPK, IMK) never leave
 * it: the card vault sends card data and gets values or verdicts back. Data keys come back twice
 * (plaintext for this process's memory, wrapped for the database).
 */

/** A freshly generated data key. */
export interface DataKey {
  plaintext: Buffer
  /** Key-service ciphertext of the key, safe to store. */
  wrapped: string
  /** Version of the wrapping key that produced `wrapped`. */
  kekVersion: number
}

/** Inputs of a card verification value (CVV, CVV2 and iCVV differ in the service code only). */
export interface CvvInput {
  cvkName: string
  /** `cvv` (track, program service code), `cvv2` (service code 000), `icvv` (999). */
  kind: 'cvv' | 'cvv2' | 'icvv'
  pan: string
  /** YYMM */
  expiry: string
  /** Needed for `cvv` only. */
  serviceCode?: string
}

/** A PIN block under a zone PIN key: the only form a PIN takes outside the key service. */
export interface PinBlockInput {
  zpkName: string
  pinBlock: string
  /** ISO 9564 format number of the block (0, 1, 3 or 4). */
  pinBlockFormat: number
}

/** PIN verification by PVV: the key service takes the PIN out of the ZPK block and checks the PVV. */
export interface PinVerifyInput extends PinBlockInput {
  pan: string
  pvkName: string
  pvki: number
  pvv: string
}

/** ARQC verification input (EMV). */
export interface ArqcInput {
  imkName: string
  /** Key-service profile, e.g. `visa-cvn18`. */
  profile: string
  pan: string
  panSequence: string
  /** Hex of the data the cryptogram covers (CDOL1 data as the terminal sent it). */
  cdolData: string
  arqc: string
  atc: string
  /** Unpredictable number (9F37): the Mastercard profiles' session key needs it. */
  un?: string
  /** Authorisation response code for an ARPC by method 1 (2 bytes hex, e.g. 3030). */
  arc?: string
  /** Card status update for an ARPC by method 2 (4 bytes hex). */
  csu?: string
}

/** The key-service operations the card vault uses. */
export interface KeyService {
  generateDataKey(kekName: string): Promise<DataKey>
  unwrapDataKey(kekName: string, wrapped: string): Promise<Buffer>
  /** Re-encrypt a wrapped data key under the newest version of its KEK (the key itself is unchanged). */
  rewrapDataKey(kekName: string, wrapped: string): Promise<{ wrapped: string; kekVersion: number }>
  /** Newest version of a wrapping key (drives the rotation job). */
  latestKekVersion(kekName: string): Promise<number>
  cvv(input: CvvInput): Promise<string>
  verifyCvv(input: CvvInput & { cvv: string }): Promise<boolean>
  /** PVV of the PIN inside a PIN block (chosen PIN). */
  pvv(input: PinBlockInput & { pvkName: string; pvki: number; pan: string }): Promise<string>
  /** PVV of a random PIN the key service draws (the PIN itself stays in the key service's answer only). */
  pvvRandomPin(input: { pvkName: string; pvki: number; pan: string; zpkName: string; pinLength?: number }): Promise<string>
  verifyPin(input: PinVerifyInput): Promise<boolean>
  verifyArqc(input: ArqcInput): Promise<{ ok: boolean; arpc?: string }>
  /** PIN storage (PIN set / reveal sessions): a random PIN's PVV and its block under the storage key `pekName` (format 4). */
  pvvRandomPinStored(input: { pvkName: string; pvki: number; pan: string; pekName: string; pinLength?: number }): Promise<{ pvv: string } & StoredPinBlock>
  /** A PIN block under a ZPK re-encrypted under the storage key (format 4); the PIN stays in the key service. */
  translatePinToStorage(input: PinBlockInput & { pan: string; pekName: string }): Promise<StoredPinBlock>
  /** A clear PIN (a PIN-set page's form) into a format 4 block under the storage key. */
  encryptPin(input: { pekName: string; pan: string; pin: string }): Promise<StoredPinBlock>
  /** The clear PIN out of a stored block (PIN reveal). */
  decryptPin(input: StoredPinBlock & { pan: string }): Promise<string>
  /**
   * A stored block moved to the storage key's current version (after a rotation of the `pek`): the key
   * service decrypts and re-encrypts it; the PIN never reaches the card vault.
   */
  rewrapPin(input: StoredPinBlock & { pan: string }): Promise<StoredPinBlock>
  /**
   * The version new blocks under `pekName` are written under (the key's latest, or its
   * min_encryption_version when pinned), from the key's metadata: the target of the rotation pass.
   */
  latestPinKeyVersion(pekName: string): Promise<number>
}

/** A PIN block (ISO 9564 format 4) under the card vault's PIN storage key, as stored in the sealed record. */
export interface StoredPinBlock {
  pekName: string
  pinBlock: string
  keyVersion: number
}
