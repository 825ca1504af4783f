import { timingSafeEqual } from 'node:crypto'
import { tdesEcb, type EcbFn } from './block-cipher.js'
import { commonR, commonSessionKeyBytes, iccMasterKeyBytes, type IccDerivationOption } from './emv-keys.js'
import { PaymentCryptoError } from './errors.js'
import { fromHex, keyFromHex, toHex } from './hex.js'
import { PROFILE_LAYOUT, cryptogramInput, isArqcProfile, type ArqcProfile, type CryptogramTags } from '@cardplane/emv'
import { prepareRetailMacKey, type MacPadding, type RetailMacKey } from './mac.js'

export { ARQC_PROFILES, COMMON_AC_TAGS, type ArqcProfile, type CryptogramTags } from '@cardplane/emv'

/** The cryptography of a profile; what its cryptogram covers and its ARPC method are in @cardplane/emv. */
interface ProfileSpec {
  /** ICC master key derivation (EMV Book 2 A1.4). */
  option: IccDerivationOption
  /** How R for the common session key is formed; 'none' = the ICC master key is used directly. */
  session: 'none' | 'atc' | 'atc-un'
  padding: MacPadding
  /** ARPC method 1 is computed under the ICC master key, method 2 under the session key. */
  arpcMethod: 1 | 2
}

// Sources: Visa VIS 1.5 / VCPS (CVN 10, 18, 22) and Mastercard M/Chip 4 / M/Chip Advance (CVN 16,
// 17) as summarised by pyemv's cvn module; CVN 22 differs from 18 only in secure messaging.
const CRYPTO: Record<ArqcProfile, Omit<ProfileSpec, 'arpcMethod'>> = {
  'visa-cvn10': { option: 'A', session: 'none', padding: 1 },
  'visa-cvn18': { option: 'B', session: 'atc', padding: 2 },
  'visa-cvn22': { option: 'B', session: 'atc', padding: 2 },
  'mc-cvn16': { option: 'A', session: 'atc-un', padding: 2 },
  'mc-cvn17': { option: 'A', session: 'atc-un', padding: 2 },
}

function profileSpec(profile: ArqcProfile): ProfileSpec {
  if (!isArqcProfile(profile)) throw new PaymentCryptoError('invalid_argument', 'unknown ARQC profile', 'profile')
  return { ...CRYPTO[profile], arpcMethod: PROFILE_LAYOUT[profile].arpcMethod }
}

/**
 * Builds the MAC input (the `cdolData` of {@link verifyArqcProfile}) from tag values, as @cardplane/emv's
 * `cryptogramInput` lays it out for the profile: the ten common tags, then the profile's parts of the
 * IAD (9F10). Throws `invalid_hex` / `invalid_argument` naming the tag.
 */
export function cryptogramData(input: { profile: ArqcProfile; tags: CryptogramTags }): string {
  const r = cryptogramInput(input.profile, input.tags)
  if (r.ok) return r.hex
  switch (r.problem) {
    case 'unknown_profile':
      throw new PaymentCryptoError('invalid_argument', 'unknown ARQC profile', 'profile')
    case 'missing':
    case 'not_hex':
      throw new PaymentCryptoError('invalid_hex', `${r.field} must be an even-length hex string`, r.field)
    case 'wrong_length':
      throw new PaymentCryptoError('invalid_argument', `${r.field} must be ${r.bytes} bytes`, r.field)
    case 'iad_too_short':
      throw new PaymentCryptoError('invalid_argument', 'tags.9F10 is too short for this profile', 'tags.9F10')
  }
}

interface ProfileKeys {
  /** TDES-ECB under the ICC master key (ARPC method 1 is computed with it). */
  iccMk: EcbFn
  /** Retail MAC (and its TDES-ECB) under the AC key: the ICC MK itself or the session key. */
  ac: RetailMacKey
}

// Each OpenSSL context costs several block encryptions to set up, so a verification builds at
// most four (IMK unless prepared, ICC MK, AC key single-DES and TDES) and reuses them for the ARPC.
function profileKeys(spec: ProfileSpec, imk: EcbFn, input: ProfileCardInput): ProfileKeys {
  const iccMkBytes = iccMasterKeyBytes(imk, input.pan, input.psn ?? '00', spec.option)
  if (spec.session === 'none') {
    const ac = prepareRetailMacKey(iccMkBytes)
    return { iccMk: ac.encrypt, ac }
  }
  if (spec.session === 'atc-un' && input.un === undefined) {
    throw new PaymentCryptoError('invalid_argument', 'un is required for this profile', 'un')
  }
  const iccMk = tdesEcb(iccMkBytes)
  const r = commonR(input.atc, spec.session === 'atc-un' ? input.un : undefined, undefined)
  return { iccMk, ac: prepareRetailMacKey(commonSessionKeyBytes(iccMk, r)) }
}

/** Card and transaction fields every profile operation needs besides the IMK. */
type ProfileCardInput = Pick<VerifyArqcProfileInput, 'pan' | 'psn' | 'atc' | 'un'>

/** Input to {@link verifyArqcProfile}. */
export interface VerifyArqcProfileInput {
  profile: ArqcProfile
  /** 32 hex: issuer master key for application cryptograms (IMK-AC). */
  imk: string
  /** 12–19 digits. */
  pan: string
  /** 2 digits (5F34), default `00`. */
  psn?: string
  /** 4 hex: ATC (9F36). */
  atc: string
  /** 8 hex: unpredictable number (9F37); required by the Mastercard profiles' session key. */
  un?: string
  /** Hex MAC input, as {@link cryptogramData} builds it. */
  cdolData: string
  /** 16 hex: the ARQC (9F26) to verify. */
  arqc: string
  /** 4 hex: ARPC response code, for method-1 profiles (Visa CVN 10, Mastercard CVN 16/17). */
  arc?: string
  /** 8 hex: card status update, for method-2 profiles (Visa CVN 18/22). */
  csu?: string
  /** 0–16 hex: proprietary authentication data for method 2. */
  proprietaryAuthData?: string
}

/** Result of {@link verifyArqcProfile}: `arpc` is null when the ARQC failed or no ARC/CSU was given. */
export interface VerifyArqcProfileResult {
  ok: boolean
  arpc: string | null
}

/**
 * Verifies an ARQC by scheme profile and, when it is good, computes the ARPC:
 * - visa-cvn10: ICC MK option A used directly as the AC key; padding method 1; ARPC method 1 under the ICC MK.
 * - visa-cvn18 / visa-cvn22: ICC MK option B; common session key R = ATC ‖ 000000000000; padding
 *   method 2; ARPC method 2 (CSU) under the session key.
 * - mc-cvn16 / mc-cvn17: ICC MK option A; common session key R = ATC ‖ 0000 ‖ UN; padding method 2;
 *   ARPC method 1 under the ICC MK.
 */
export function verifyArqcProfile(input: VerifyArqcProfileInput): VerifyArqcProfileResult {
  return verifyWith(tdesEcb(keyFromHex(input.imk, 'imk', [16])), input)
}

function verifyWith(imk: EcbFn, input: Omit<VerifyArqcProfileInput, 'imk'>): VerifyArqcProfileResult {
  const spec = profileSpec(input.profile)
  const data = fromHex(input.cdolData, 'cdolData')
  const arqc = fromHex(input.arqc, 'arqc', 8)
  const arc = input.arc === undefined ? undefined : fromHex(input.arc, 'arc', 2)
  const csu = input.csu === undefined ? undefined : fromHex(input.csu, 'csu', 4)
  const pad = fromHex(input.proprietaryAuthData ?? '', 'proprietaryAuthData', [0, 1, 2, 3, 4, 5, 6, 7, 8])
  const keys = profileKeys(spec, imk, input)
  const ok = timingSafeEqual(keys.ac.mac(data, spec.padding), arqc)
  if (!ok) return { ok, arpc: null }
  if (spec.arpcMethod === 1) {
    if (arc === undefined) return { ok, arpc: null }
    const block = Buffer.from(arqc)
    block[0] = (block[0] ?? 0) ^ (arc[0] ?? 0)
    block[1] = (block[1] ?? 0) ^ (arc[1] ?? 0)
    return { ok, arpc: toHex(keys.iccMk(block)) }
  }
  if (csu === undefined) return { ok, arpc: null }
  return { ok, arpc: toHex(keys.ac.mac(Buffer.concat([arqc, csu, pad]), 2).subarray(0, 4)) }
}

/** ARQC operations bound to one IMK-AC; see createCvvContext for the ownership rule. */
export interface ArqcContext {
  verifyArqcProfile(input: Omit<VerifyArqcProfileInput, 'imk'>): VerifyArqcProfileResult
}

/** Binds an IMK-AC to a reusable TDES context, saving one context set-up per verification. */
export function createArqcContext(imk: string): ArqcContext {
  const enc = tdesEcb(keyFromHex(imk, 'imk', [16]))
  return { verifyArqcProfile: (input) => verifyWith(enc, input) }
}

/** Generates the ARQC a card of this profile would produce (for tests, simulators and card personalisation checks). */
export function generateArqcProfile(input: Omit<VerifyArqcProfileInput, 'arqc' | 'arc' | 'csu' | 'proprietaryAuthData'>): string {
  const spec = profileSpec(input.profile)
  const data = fromHex(input.cdolData, 'cdolData')
  const keys = profileKeys(spec, tdesEcb(keyFromHex(input.imk, 'imk', [16])), input)
  return toHex(keys.ac.mac(data, spec.padding))
}
