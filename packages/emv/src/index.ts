/**
 * EMV data layout, shared across zones: the ARQC profiles the platform supports, what each profile's
 * application cryptogram covers (its CDOL1 data) and which ARPC method answers it. No keys and no
 * cryptography here: the key service's payment-crypto computes and verifies cryptograms, the card vault
 * builds their input from DE 55, and both read this one table, so the two cannot drift apart.
 *
 * Sources: Visa VIS 1.5 / VCPS (CVN 10, 18, 22) and Mastercard M/Chip 4 / M/Chip Advance (CVN 16, 17) as
 * public summaries describe them (pyemv's cvn module); CVN 22 differs from 18 only in secure messaging.
 * To check against the schemes' card specifications.
 */

/** Scheme cryptogram versions the platform verifies. */
export const ARQC_PROFILES = ['visa-cvn10', 'visa-cvn18', 'visa-cvn22', 'mc-cvn16', 'mc-cvn17'] as const
export type ArqcProfile = (typeof ARQC_PROFILES)[number]

export function isArqcProfile(value: unknown): value is ArqcProfile {
  return typeof value === 'string' && (ARQC_PROFILES as readonly string[]).includes(value)
}

/** The ten terminal/card data elements every profile MACs first, in this order, with their byte lengths. */
export const COMMON_AC_TAGS = [
  ['9F02', 6],
  ['9F03', 6],
  ['9F1A', 2],
  ['95', 5],
  ['5F2A', 2],
  ['9A', 3],
  ['9C', 1],
  ['9F37', 4],
  ['82', 2],
  ['9F36', 2],
] as const

/** Tag values (hex) a cryptogram's input is built from: the ten common tags and the issuer application data. */
export type CryptogramTags = Record<(typeof COMMON_AC_TAGS)[number][0] | '9F10', string>

/** A byte range [start, end) of the issuer application data (9F10), or all of it. */
export type IadPart = readonly [start: number, end: number] | 'all'

export interface ProfileLayout {
  /** What follows the ten common tags in the MAC input, cut from the IAD. */
  iadParts: readonly IadPart[]
  /** ARPC method 1 (ARPC over ARQC ‖ ARC) or 2 (over ARQC ‖ CSU ‖ proprietary data). */
  arpcMethod: 1 | 2
}

/**
 * Visa CVN 10: the CVR (IAD bytes 3–6, with its length byte); Visa CVN 18/22: the whole IAD; Mastercard
 * CVN 16: the CVR (IAD bytes 2–7); Mastercard CVN 17: the CVR and the counters (IAD bytes 10–17).
 */
export const PROFILE_LAYOUT: Readonly<Record<ArqcProfile, ProfileLayout>> = {
  'visa-cvn10': { iadParts: [[3, 7]], arpcMethod: 1 },
  'visa-cvn18': { iadParts: ['all'], arpcMethod: 2 },
  'visa-cvn22': { iadParts: ['all'], arpcMethod: 2 },
  'mc-cvn16': { iadParts: [[2, 8]], arpcMethod: 1 },
  'mc-cvn17': {
    iadParts: [
      [2, 8],
      [10, 18],
    ],
    arpcMethod: 1,
  },
}

/** Why a cryptogram's input could not be built: which tag, and what is wrong with it. */
export interface CryptogramDataProblem {
  ok: false
  /** `tags.9F02` … `tags.9F10`, or `profile`. */
  field: string
  problem: 'unknown_profile' | 'missing' | 'not_hex' | 'wrong_length' | 'iad_too_short'
  /** For `wrong_length`: the bytes the tag must have. */
  bytes?: number
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/

/**
 * The MAC input (CDOL1 data) of a profile's application cryptogram, upper-case hex: the ten common tags in
 * order, then the profile's parts of the IAD. A problem instead when a tag is missing, not hex, of the
 * wrong length, or the IAD is too short for the profile: no valid cryptogram can cover such data.
 */
export function cryptogramInput(profile: string, tags: Readonly<Record<string, string | undefined>>): { ok: true; hex: string } | CryptogramDataProblem {
  if (!isArqcProfile(profile)) return { ok: false, field: 'profile', problem: 'unknown_profile' }
  let out = ''
  for (const [tag, bytes] of COMMON_AC_TAGS) {
    const v = tags[tag]
    const field = `tags.${tag}`
    if (typeof v !== 'string') return { ok: false, field, problem: 'missing' }
    if (!HEX.test(v)) return { ok: false, field, problem: 'not_hex' }
    if (v.length !== bytes * 2) return { ok: false, field, problem: 'wrong_length', bytes }
    out += v
  }
  const iad = tags['9F10']
  if (typeof iad !== 'string') return { ok: false, field: 'tags.9F10', problem: 'missing' }
  if (!HEX.test(iad)) return { ok: false, field: 'tags.9F10', problem: 'not_hex' }
  for (const part of PROFILE_LAYOUT[profile].iadParts) {
    if (part === 'all') {
      out += iad
      continue
    }
    if (iad.length < part[1] * 2) return { ok: false, field: 'tags.9F10', problem: 'iad_too_short' }
    out += iad.slice(part[0] * 2, part[1] * 2)
  }
  return { ok: true, hex: out.toUpperCase() }
}
