import {
  decodeVisaHeader,
  encodeVisaHeader,
  getSpec,
  Iso8583Error,
  type Iso8583Spec,
  type VisaHeader,
} from '@cardplane/iso8583'
import { NETWORK_MANAGEMENT_CODES, text, type VisaMessage } from './message.js'
import { formatErrorResponse, networkManagementResponse, responseMti } from './responses.js'
import { VISA_DE39 } from './response-codes.js'
import { visaReversal, visaStandInAdvice, type VisaReversal, type VisaStandInAdvice } from './reversals.js'
import { visaToUnified, VisaFormatError, type VisaAuthorization } from './to-unified.js'
import { flatten, unflatten } from './wire-codec.js'

/** Name of the codec dialect the connector speaks. */
export const VISA_SPEC_NAME = 'visa-base1'

/**
 * BASE I reject codes this connector sends when a message cannot be answered with a response MTI.
 * Placeholders in the BASE I reject-code range; check the real codes in the BASE I spec.
 */
export const VISA_REJECT_CODES = {
  /** MTI or bitmap unreadable. */
  unreadable: '0010',
  /** A response or advice-response MTI arrived on the issuer side. */
  unexpectedMti: '0011',
  /** A field could not be decoded and the key fields (7, 11) could not be found to answer 30. */
  fieldFormat: '0012',
} as const

/** What the connector made of one inbound frame (BASE I header + message, VMLH already removed). */
export type VisaInbound =
  | { kind: 'authorization'; header: VisaHeader; request: VisaMessage; auth: VisaAuthorization }
  | { kind: 'network_management'; header: VisaHeader; request: VisaMessage; code: string; response: Buffer }
  /** 0400/0401 reversal request, 0420/0421 reversal advice. */
  | { kind: 'reversal'; header: VisaHeader; request: VisaMessage; reversal: VisaReversal }
  /** 0120/0121 advice of a Visa stand-in (STIP) decision. */
  | { kind: 'stand_in_advice'; header: VisaHeader; request: VisaMessage; advice: VisaStandInAdvice }
  /** Answered without the pipeline (format error 30, unsupported message 12, reject header). */
  | { kind: 'answer'; response: Buffer; problem: string; de39?: string }
  /** Nothing can be sent back (the header itself is unreadable): the link should drop the connection. */
  | { kind: 'close'; problem: string }

/** Codes of decode problems, for metrics and logs (never values). */
function problemOf(err: unknown): string {
  if (err instanceof Iso8583Error) return `${err.code}${err.fieldPath ? `@${err.fieldPath}` : ''}`
  if (err instanceof VisaFormatError) return `visa_format@${err.field}`
  return 'unknown'
}

/** The header of our answer to `request`: destination and source swapped, routing info echoed. */
export function responseHeader(request: VisaHeader, reject?: string): VisaHeader {
  const h: VisaHeader = {
    ...request,
    headerLength: reject ? 26 : 22,
    destinationId: request.sourceId,
    sourceId: request.destinationId,
  }
  if (reject) h.reject = { bitmap: 0x8000, code: reject }
  else delete h.reject
  return h
}

/** The Visa connector: decodes frames, maps them, encodes answers. One instance per process. */
export class VisaConnector {
  readonly spec: Iso8583Spec

  constructor(spec: Iso8583Spec = getSpec(VISA_SPEC_NAME)) {
    this.spec = spec
  }

  /** Encode a message with the response header for `requestHeader`. */
  encodeResponse(requestHeader: VisaHeader, message: VisaMessage): Buffer {
    const body = this.spec.encode(unflatten(message))
    return Buffer.concat([encodeVisaHeader(responseHeader(requestHeader), body.length), body])
  }

  /** Encode a request (the simulator's side): header + message. */
  encodeRequest(header: VisaHeader, message: VisaMessage): Buffer {
    const body = this.spec.encode(unflatten(message))
    return Buffer.concat([encodeVisaHeader({ ...header, headerLength: 22 }, body.length), body])
  }

  /** Decode a frame on the acquirer side (the simulator reads 0110/0810). */
  decodeAny(frame: Buffer): { header: VisaHeader; message: VisaMessage } {
    const { header, length } = decodeVisaHeader(frame)
    return { header, message: flatten(this.spec.decode(frame.subarray(length))) }
  }

  private reject(header: VisaHeader, frame: Buffer, code: string, problem: string): VisaInbound {
    const original = frame.subarray(0, Math.min(frame.length, 512))
    return { kind: 'answer', response: Buffer.concat([encodeVisaHeader(responseHeader(header, code), original.length), original]), problem }
  }

  /** Decode an inbound frame and decide how it is handled. Never throws for bad input. */
  parse(frame: Buffer, receivedAt: Date): VisaInbound {
    let header: VisaHeader
    let bodyAt: number
    try {
      const h = decodeVisaHeader(frame)
      header = h.header
      bodyAt = h.length
      if (header.totalLength !== frame.length) return { kind: 'close', problem: 'header_total_length_mismatch' }
      if (header.reject) return { kind: 'close', problem: 'reject_header_inbound' }
    } catch (err) {
      return { kind: 'close', problem: problemOf(err) }
    }
    const body = frame.subarray(bodyAt)
    let request: VisaMessage
    try {
      request = flatten(this.spec.decode(body))
    } catch (err) {
      return this.answerUndecodable(header, frame, body, err)
    }
    const cls = request.mti[2]
    if (cls === '1' || cls === '3') return this.reject(header, frame, VISA_REJECT_CODES.unexpectedMti, `response_mti_inbound:${request.mti}`)
    switch (request.mti) {
      case '0100':
      case '0200':
        try {
          return { kind: 'authorization', header, request, auth: visaToUnified(request, receivedAt) }
        } catch (err) {
          if (!(err instanceof VisaFormatError)) throw err
          return { kind: 'answer', response: this.encodeResponse(header, formatErrorResponse(request)), problem: problemOf(err), de39: VISA_DE39.formatError }
        }
      case '0400':
      case '0401':
      case '0420':
      case '0421':
        try {
          return { kind: 'reversal', header, request, reversal: visaReversal(request, receivedAt) }
        } catch (err) {
          if (!(err instanceof VisaFormatError)) throw err
          return { kind: 'answer', response: this.encodeResponse(header, formatErrorResponse(request)), problem: problemOf(err), de39: VISA_DE39.formatError }
        }
      case '0120':
      case '0121':
        try {
          return { kind: 'stand_in_advice', header, request, advice: visaStandInAdvice(request, receivedAt) }
        } catch (err) {
          if (!(err instanceof VisaFormatError)) throw err
          return { kind: 'answer', response: this.encodeResponse(header, formatErrorResponse(request)), problem: problemOf(err), de39: VISA_DE39.formatError }
        }
      case '0800': {
        const code = text(request.fields, '70') ?? ''
        const known = (Object.values(NETWORK_MANAGEMENT_CODES) as string[]).includes(code)
        const response = this.encodeResponse(header, networkManagementResponse(request, known))
        return { kind: 'network_management', header, request, code, response }
      }
      default: {
        // Message types this issuer does not process (0300 file updates, 0600 administrative, ...): answer 12.
        const fields = { ...formatErrorResponse(request).fields, '39': VISA_DE39.invalidTransaction }
        const response = this.encodeResponse(header, { mti: responseMti(request.mti), fields })
        return { kind: 'answer', response, problem: `unsupported_mti:${request.mti}`, de39: VISA_DE39.invalidTransaction }
      }
    }
  }

  /**
   * A body the codec refused: answer 0110/0810 with DE 39 = 30 when the MTI and the key fields can still
   * be read (scan stops before the bad field when it lies after them), a reject header otherwise.
   */
  private answerUndecodable(header: VisaHeader, frame: Buffer, body: Buffer, err: unknown): VisaInbound {
    const problem = problemOf(err)
    if (err instanceof Iso8583Error && (err.fieldPath === 'mti' || err.fieldPath === 'bitmap' || err.fieldPath === '')) {
      if (err.fieldPath === '') {
        // Trailing bytes: the fields themselves are readable.
        try {
          const scanned = flatten(this.spec.scan(body, ['2', '3', '4', '7', '11', '32', '37', '41', '42', '49']))
          return this.formatError(header, frame, scanned, problem)
        } catch {
          return this.reject(header, frame, VISA_REJECT_CODES.unreadable, problem)
        }
      }
      return this.reject(header, frame, VISA_REJECT_CODES.unreadable, problem)
    }
    for (const wanted of [['2', '3', '4', '7', '11', '32', '37', '41', '42', '49'], ['3', '7', '11'], ['7', '11']]) {
      try {
        const scanned = flatten(this.spec.scan(body, wanted))
        return this.formatError(header, frame, scanned, problem)
      } catch {
        // try a smaller set of fields
      }
    }
    return this.reject(header, frame, VISA_REJECT_CODES.fieldFormat, problem)
  }

  private formatError(header: VisaHeader, frame: Buffer, scanned: VisaMessage, problem: string): VisaInbound {
    const cls = scanned.mti[2]
    if (cls === '1' || cls === '3') return this.reject(header, frame, VISA_REJECT_CODES.unexpectedMti, problem)
    if (text(scanned.fields, '11') === undefined) return this.reject(header, frame, VISA_REJECT_CODES.fieldFormat, problem)
    try {
      return { kind: 'answer', response: this.encodeResponse(header, formatErrorResponse(scanned)), problem, de39: VISA_DE39.formatError }
    } catch {
      return this.reject(header, frame, VISA_REJECT_CODES.fieldFormat, problem)
    }
  }
}
