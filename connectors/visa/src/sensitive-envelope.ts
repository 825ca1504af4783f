/**
 * The sensitive part of an authorisation: what the card vault needs to find the card and check it, and
 * nothing that may leave the CDE. It lives in memory for the duration of one request only: never logged,
 * never queued, never stored. `toJSON` and `util.inspect` render it masked so an accidental log line or
 * JSON.stringify cannot leak it.
 */
export interface SensitiveEnvelopeData {
  /** Primary account number (DE 2, or from track 2). */
  pan: string
  /** Expiry YYMM (DE 14, or from track 2). */
  expiry?: string
  /** Service code from track 2. */
  serviceCode?: string
  /** Track 2 equivalent data (DE 35), `=` separator. */
  track2?: string
  /** CVV2 as keyed by the cardholder (DE 126.10 positions 3-6). */
  cvv2?: string
  /** PIN block under the link's zone PIN key (DE 52), upper-case hex. */
  pinBlock?: string
  /** ISO PIN block format number from DE 53 (0 = ISO format 0). */
  pinBlockFormat?: number
  /** EMV chip data (DE 55) as tag → upper-case hex value. */
  emv?: Record<string, string>
}

const MASKED = '[sensitive envelope]'

/** Holder of the sensitive data; masks itself in JSON, inspection and string conversion. */
export class SensitiveEnvelope {
  readonly #data: SensitiveEnvelopeData

  constructor(data: SensitiveEnvelopeData) {
    this.#data = data
  }

  /** The values, for the one call that hands them to the card vault. */
  reveal(): Readonly<SensitiveEnvelopeData> {
    return this.#data
  }

  /** Whether a PIN block came with the request (checking it moves the card's PIN try counter). */
  get hasPinBlock(): boolean {
    return this.#data.pinBlock !== undefined
  }

  /** Last four digits of the PAN (not sensitive). */
  get lastFour(): string {
    return this.#data.pan.slice(-4)
  }

  toJSON(): string {
    return MASKED
  }

  toString(): string {
    return MASKED
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return MASKED
  }
}
