/**
 * Card programs as configuration (config/programs.json or CARDS_PROGRAMS_FILE): BIN range, product,
 * country, currency, expiry rule, PIN try limit and the key-service key names. Validated once at
 * startup; a bad file stops the service instead of issuing wrong cards.
 */
import { readFileSync } from 'node:fs'

/** One card program. */
export interface Program {
  id: string
  name: string
  scheme: 'visa' | 'mastercard'
  product: 'debit' | 'credit' | 'prepaid'
  /** ISO 3166-1 alpha-2 */
  country: string
  /** ISO 4217 alphabetic */
  currency: string
  bin: string
  panLength: number
  accountRange: { start: string; size: string }
  expiry: { validityMonths: number }
  serviceCode: string
  pin: { tryLimit: number }
  keys: { cvk: string; pvk: string; pvki: number; imkAc?: string; arqcProfile?: string }
}

/** The program definition the card vault needs (sent with every issue request). */
export interface CdeProgram {
  id: string
  bin: string
  panLength: number
  accountStart: string
  rangeSize: string
  validityMonths: number
  serviceCode: string
  pinTryLimit: number
  cvkName: string
  pvkName: string
  pvki: number
  imkAcName?: string
  arqcProfile?: string
}

/** Thrown for an invalid programs file (names the program and field, never card data). */
export class ProgramConfigError extends Error {
  readonly code = 'programs_invalid'
}

function need(cond: boolean, where: string, what: string): void {
  if (!cond) throw new ProgramConfigError(`${where}: ${what}`)
}

/** Validate one program entry. */
export function validateProgram(p: Program, i: number): Program {
  const where = `program ${i} (${String(p?.id)})`
  need(typeof p.id === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(p.id), where, 'id must be lower-case kebab')
  need(['visa', 'mastercard'].includes(p.scheme), where, 'scheme must be visa or mastercard')
  need(['debit', 'credit', 'prepaid'].includes(p.product), where, 'product must be debit, credit or prepaid')
  need(/^[A-Z]{2}$/.test(p.country), where, 'country must be ISO 3166-1 alpha-2')
  need(/^[A-Z]{3}$/.test(p.currency), where, 'currency must be ISO 4217 alphabetic')
  need(/^\d{6,8}$/.test(p.bin), where, 'bin must be 6-8 digits')
  need(Number.isInteger(p.panLength) && p.panLength >= 13 && p.panLength <= 19, where, 'panLength must be 13-19')
  const digits = p.panLength - p.bin.length - 1
  need(/^\d+$/.test(p.accountRange?.start ?? ''), where, 'accountRange.start must be digits')
  need(/^[1-9]\d*$/.test(p.accountRange?.size ?? ''), where, 'accountRange.size must be a positive integer string')
  need(BigInt(p.accountRange.start) + BigInt(p.accountRange.size) <= 10n ** BigInt(digits), where, 'accountRange exceeds the account digits')
  need(Number.isInteger(p.expiry?.validityMonths) && p.expiry.validityMonths >= 1 && p.expiry.validityMonths <= 120, where, 'expiry.validityMonths 1-120')
  need(/^\d{3}$/.test(p.serviceCode), where, 'serviceCode must be 3 digits')
  need(Number.isInteger(p.pin?.tryLimit) && p.pin.tryLimit >= 1 && p.pin.tryLimit <= 10, where, 'pin.tryLimit 1-10')
  need(typeof p.keys?.cvk === 'string' && typeof p.keys?.pvk === 'string', where, 'keys.cvk and keys.pvk are required')
  need(Number.isInteger(p.keys.pvki) && p.keys.pvki >= 0 && p.keys.pvki <= 9, where, 'keys.pvki 0-9')
  return p
}

/** Load and validate a programs file. Two programs may not overlap in BIN and account range. */
export function loadPrograms(path: string): Map<string, Program> {
  let doc: { programs?: Program[] }
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as { programs?: Program[] }
  } catch (err) {
    throw new ProgramConfigError(`cannot read programs file: ${(err as Error).message}`)
  }
  need(Array.isArray(doc.programs), 'programs file', '"programs" must be an array')
  const out = new Map<string, Program>()
  const programs = doc.programs ?? []
  for (const [i, p] of programs.entries()) {
    validateProgram(p, i)
    need(!out.has(p.id), `program ${i}`, `duplicate id ${p.id}`)
    for (const q of out.values()) {
      if (q.bin !== p.bin || q.panLength !== p.panLength) continue
      const a0 = BigInt(p.accountRange.start)
      const a1 = a0 + BigInt(p.accountRange.size)
      const b0 = BigInt(q.accountRange.start)
      const b1 = b0 + BigInt(q.accountRange.size)
      need(a1 <= b0 || b1 <= a0, `program ${p.id}`, `account range overlaps program ${q.id}`)
    }
    out.set(p.id, p)
  }
  return out
}

/** The card vault's view of a program. */
export function toCdeProgram(p: Program): CdeProgram {
  return {
    id: p.id,
    bin: p.bin,
    panLength: p.panLength,
    accountStart: p.accountRange.start,
    rangeSize: p.accountRange.size,
    validityMonths: p.expiry.validityMonths,
    serviceCode: p.serviceCode,
    pinTryLimit: p.pin.tryLimit,
    cvkName: p.keys.cvk,
    pvkName: p.keys.pvk,
    pvki: p.keys.pvki,
    ...(p.keys.imkAc ? { imkAcName: p.keys.imkAc } : {}),
    ...(p.keys.arqcProfile ? { arqcProfile: p.keys.arqcProfile } : {}),
  }
}
