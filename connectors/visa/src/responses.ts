import type { Decision } from '@cardplane/contracts'
import { buildTlv } from './emv-tlv.js'
import { text, type VisaFields, type VisaMessage } from './message.js'
import { VISA_DE39, visaResponseCodeForDecision, type VisaResponseCode } from './response-codes.js'

/**
 * Fields a response echoes from its request, in Visa's usual set (the PAN is echoed: it goes back to Visa
 * on the same link and is never logged — the codec masks DE 2 when describing).
 */
const ECHOED = ['2', '3', '4', '6', '7', '10', '11', '14', '18', '19', '25', '32', '33', '37', '41', '42', '49', '51', '62.2']

/**
 * The response MTI of a request MTI (0100 → 0110, 0800 → 0810, 0420 → 0430). A repeat (last digit 1,
 * e.g. 0421, 0121, 0401) is answered with the plain response MTI (0430, 0130, 0410).
 */
export function responseMti(mti: string): string {
  const cls = Number(mti[2])
  const origin = mti[3] === '1' || mti[3] === undefined ? '0' : mti[3]
  return `${mti.slice(0, 2)}${cls + 1}${origin}`
}

function echo(request: VisaMessage): VisaFields {
  const out: VisaFields = {}
  for (const key of ECHOED) {
    const v = request.fields[key]
    if (v !== undefined) out[key] = v
  }
  return out
}

/** Visa DE 55: dataset id 0x01, 2-byte dataset length, then the TLV list. */
export function visaChipData(tags: Record<string, string>): Buffer {
  const tlv = buildTlv(tags)
  const head = Buffer.from([0x01, 0, 0])
  head.writeUInt16BE(tlv.length, 1)
  return Buffer.concat([head, tlv])
}

/** What the pipeline knows when answering an authorisation. */
export interface AuthorizationAnswer {
  decision: Decision
  accountVerification?: boolean
  /** Six-character approval code (DE 38), for approvals. */
  approvalCode?: string
  /** CVV2 result for DE 44.10: M match, N no match, P not processed. */
  cvv2Result?: 'M' | 'N' | 'P'
  /** ARPC (+ CSU) for chip answers: goes into DE 55 tag 91 (issuer authentication data). */
  issuerAuthenticationData?: string
}

/** Build the 0110 (or 0210) for a decided authorisation. */
export function authorizationResponse(request: VisaMessage, answer: AuthorizationAnswer): { message: VisaMessage; de39: VisaResponseCode } {
  const de39 = visaResponseCodeForDecision(answer.decision, answer.accountVerification)
  const fields = echo(request)
  fields['39'] = de39
  if ((answer.decision.outcome === 'approve' || answer.decision.outcome === 'partial') && answer.approvalCode) {
    fields['38'] = answer.approvalCode
  }
  if (answer.decision.outcome === 'partial') {
    // Partial approval: DE 4 carries the approved amount in the transaction currency when they match.
    const approved = answer.decision.approvedAmount
    if (approved.currency === answer.decision.requestedAmount.currency) fields['4'] = String(approved.minor).padStart(12, '0')
  }
  // DE 44 position 10: CVV2 result code (positions 1-9 not used here).
  if (answer.cvv2Result) fields['44'] = `${' '.repeat(9)}${answer.cvv2Result}`
  if (answer.issuerAuthenticationData) fields['55'] = visaChipData({ '91': answer.issuerAuthenticationData })
  return { message: { mti: responseMti(request.mti), fields }, de39 }
}

/** A format-error answer (DE 39 = 30) with whatever could be read of the request. */
export function formatErrorResponse(request: VisaMessage): VisaMessage {
  const fields = echo(request)
  fields['39'] = VISA_DE39.formatError
  return { mti: responseMti(request.mti), fields }
}

/** The 0810 answer to a 0800 (DE 39 00 for a known DE 70, 12 otherwise). */
export function networkManagementResponse(request: VisaMessage, accepted: boolean): VisaMessage {
  const fields: VisaFields = {}
  for (const key of ['7', '11', '33', '37', '70']) {
    const v = text(request.fields, key)
    if (v !== undefined) fields[key] = v
  }
  fields['39'] = accepted ? VISA_DE39.approved : VISA_DE39.invalidTransaction
  return { mti: '0810', fields }
}

/**
 * The answer to a reversal (0400/0401 → 0410, 0420/0421 → 0430) or to a STIP advice (0120/0121 → 0130):
 * the request's usual fields echoed (as in a 0110) and DE 39. Advices are always acknowledged 00; a
 * reversal request may get 25 (original not found) or 91 (issuer unavailable). Which fields Visa expects
 * echoed in 0410/0430/0130 is to check against the BASE I spec (DE 90 and 95 are not echoed here).
 */
export function acknowledgement(request: VisaMessage, de39: VisaResponseCode): VisaMessage {
  const fields = echo(request)
  fields['39'] = de39
  return { mti: responseMti(request.mti), fields }
}
