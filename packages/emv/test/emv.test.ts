import t from 'tap'
import { ARQC_PROFILES, COMMON_AC_TAGS, PROFILE_LAYOUT, cryptogramInput, isArqcProfile } from '../src/index.js'

// Ten common tags with recognisable values, in the order they are MACed.
const tags: Record<string, string> = {
  '9F02': '000000001000', // amount, authorised
  '9F03': '000000000000', // amount, other
  '9F1A': '0840', // terminal country
  '95': '8000048000', // TVR
  '5F2A': '0840', // currency
  '9A': '261205', // date
  '9C': '00', // type
  '9F37': '0BADCAFE', // unpredictable number
  '82': '1980', // AIP
  '9F36': '001C', // ATC
}
const common = '0000000010000000000000000840800004800008402612050' + '00BADCAFE1980001C'
// IAD bytes numbered so each profile's cut is visible: byte i is i (hex), 20 bytes.
const iad = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(2, '0')).join('').toUpperCase()

void t.test('the MAC input of each profile: ten common tags, then its part of the IAD', async (t) => {
  t.equal(common.length, COMMON_AC_TAGS.reduce((n, [, bytes]) => n + bytes * 2, 0), 'common tags are 33 bytes')
  const want: Record<string, string> = {
    'visa-cvn10': common + '03040506', // CVR with its length byte: IAD bytes 3–6
    'visa-cvn18': common + iad, // the whole IAD
    'visa-cvn22': common + iad,
    'mc-cvn16': common + '020304050607', // CVR: IAD bytes 2–7
    'mc-cvn17': common + '020304050607' + '0A0B0C0D0E0F1011', // CVR and counters: bytes 2–7, 10–17
  }
  for (const profile of ARQC_PROFILES) {
    t.same(cryptogramInput(profile, { ...tags, '9F10': iad.toLowerCase() }), { ok: true, hex: want[profile] }, profile)
  }
})

void t.test('input no cryptogram can cover is a problem naming the tag', async (t) => {
  const withIad: Record<string, string> = { ...tags, '9F10': iad }
  t.same(cryptogramInput('amex-xyz', withIad), { ok: false, field: 'profile', problem: 'unknown_profile' })
  const { '9A': _date, ...noDate } = withIad
  t.same(cryptogramInput('visa-cvn18', noDate), { ok: false, field: 'tags.9A', problem: 'missing' })
  t.same(cryptogramInput('visa-cvn18', { ...withIad, '95': '80000480ZZ' }), { ok: false, field: 'tags.95', problem: 'not_hex' })
  t.same(cryptogramInput('visa-cvn18', { ...withIad, '9F37': '0BADCA' }), { ok: false, field: 'tags.9F37', problem: 'wrong_length', bytes: 4 })
  t.same(cryptogramInput('visa-cvn18', { ...withIad, '9F10': '061' }), { ok: false, field: 'tags.9F10', problem: 'not_hex' }, 'odd length')
  const { '9F10': _iad, ...noIad } = withIad
  t.same(cryptogramInput('mc-cvn16', noIad), { ok: false, field: 'tags.9F10', problem: 'missing' })
  // Profiles that cut the IAD need it long enough; the whole-IAD profiles take any length.
  const short = { ...tags, '9F10': '0601020304' }
  t.same(cryptogramInput('visa-cvn10', short), { ok: false, field: 'tags.9F10', problem: 'iad_too_short' })
  t.same(cryptogramInput('mc-cvn17', { ...tags, '9F10': iad.slice(0, 34) }), { ok: false, field: 'tags.9F10', problem: 'iad_too_short' }, '17 bytes: counters cut')
  t.same(cryptogramInput('visa-cvn18', short), { ok: true, hex: common + '0601020304' })
})

void t.test('profiles and ARPC methods', async (t) => {
  t.ok(ARQC_PROFILES.every(isArqcProfile))
  t.notOk(isArqcProfile('visa-cvn17'))
  t.notOk(isArqcProfile(18))
  t.same(
    ARQC_PROFILES.map((p) => PROFILE_LAYOUT[p].arpcMethod),
    [1, 2, 2, 1, 1],
    'Visa CVN 18/22 answer with method 2 (CSU), the others with method 1 (ARC)',
  )
})
