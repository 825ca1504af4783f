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

/** Inputs of a card verification value (CVV, CVV2 and iCVV differ in expiry/service code only). */
export interface CvvInput {
  cvkName: string
  pan: string
  /** YYMM */
  expiry: string
  serviceCode: string
}

/** PIN verification by PVV: translate the PIN block out of the ZPK inside the key service. */
export interface PinVerifyInput {
  zpkName: string
  pinBlock: string
  /** ISO 9564 format number of the incoming block (0, 1, 3 or 4). */
  pinBlockFormat: number
  pan: string
  pvkName: string
  pvki: number
  pvv: string
}

/** ARQC verification input (EMV). */
export interface ArqcInput {
  imkName: string
  pan: string
  panSequence: string
  /** Hex of the data the cryptogram covers (CDOL1 data as the terminal sent it). */
  data: string
  arqc: string
  atc: string
  /** Authorisation response code for the ARPC (2 bytes hex, e.g. 3030). */
  arc?: string
}

/** The key-service operations the card vault uses. */
export interface KeyService {
  generateDataKey(kekName: string): Promise<DataKey>
  unwrapDataKey(kekName: string, wrapped: string): Promise<Buffer>
  /** Re-encrypt a wrapped data key under the newest version of its KEK (the key itself is unchanged). */
  rewrapDataKey(kekName: string, wrapped: string): Promise<{ wrapped: string; kekVersion: number }>
  /** Newest version of a wrapping key (drives the rewrap job). */
  latestKekVersion(kekName: string): Promise<number>
  cvv(input: CvvInput): Promise<string>
  verifyCvv(input: CvvInput & { cvv: string }): Promise<boolean>
  pvv(input: { pvkName: string; pvki: number; pan: string; pin: string }): Promise<string>
  verifyPin(input: PinVerifyInput): Promise<boolean>
  verifyArqc(input: ArqcInput): Promise<{ ok: boolean; arpc?: string }>
}
