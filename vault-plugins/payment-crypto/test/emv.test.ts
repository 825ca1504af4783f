import t from 'tap'
import fc from 'fast-check'
import {
  applicationCryptogram,
  arpc,
  createArqcContext,
  cryptogramData,
  generateArqcProfile,
  iccMasterKey,
  kcv,
  sessionKey,
  verifyArqc,
  verifyArqcProfile,
  type ArqcProfile,
  type CryptogramTags,
} from '../src/index.js'
import { digits, flipBit, hexBytes } from './helpers.js'

// Unless noted, vectors come from pyemv (github.com/knovichikhin/pyemv) tests/test_kd_hsm.py,
// tests/test_kd.py and tests/test_cvn_hsm.py, which were cross-checked there against an HSM.
const IMK = '0123456789ABCDEFFEDCBA9876543210'
const kcv4 = (key: string): string => kcv(key, { algorithm: 'tdes', length: 4 })

void t.test('ICC master key derivation, EMV Book 2 A1.4 options A and B', async (t) => {
  t.equal(kcv4(IMK), '08D7')
  t.equal(kcv4(iccMasterKey({ imk: IMK, pan: '12345678901234567', psn: '45', option: 'A' })), 'FF08')
  t.equal(kcv4(iccMasterKey({ imk: IMK, pan: '1234567890123456', option: 'B' })), 'BAB0', 'option B = A for 16-digit PANs')
  t.equal(kcv4(iccMasterKey({ imk: IMK, pan: '1234567890123456', option: 'A' })), 'BAB0')
  t.equal(kcv4(iccMasterKey({ imk: IMK, pan: '123456789012345679', psn: '00', option: 'B' })), 'C2F3')
  t.equal(kcv4(iccMasterKey({ imk: IMK, pan: '000000000000000005', psn: '23', option: 'B' })), 'DD73')
  t.equal(kcv4(iccMasterKey({ imk: 'FEDCBA98765432100123456789ABCDEF', pan: '1234567890123456', option: 'B' })), 'F010')
  t.throws(() => iccMasterKey({ imk: IMK, pan: '1234', option: 'A' }), { code: 'invalid_pan' })
  t.throws(() => iccMasterKey({ imk: IMK, pan: '1234567890123456', psn: '1', option: 'A' }), { code: 'invalid_argument' })
  t.throws(() => iccMasterKey({ imk: IMK, pan: '1234567890123456', option: 'C' as 'A' }), { code: 'invalid_argument' })
})

void t.test('session keys: EMV common, Visa SM, EMV2000 tree', async (t) => {
  const iccMk = iccMasterKey({ imk: IMK, pan: '12345678901234567', psn: '45', option: 'A' })
  t.equal(kcv4(sessionKey({ method: 'emv-common', iccMk, r: '1234567890123456' })), 'DF82')
  // R built from ATC ‖ 0000 ‖ UN and from ATC ‖ zeros equals passing R explicitly.
  t.equal(sessionKey({ method: 'emv-common', iccMk, atc: '001C', un: 'ABCDEF12' }), sessionKey({ method: 'emv-common', iccMk, r: '001C0000ABCDEF12' }))
  t.equal(sessionKey({ method: 'emv-common', iccMk, atc: '001C' }), sessionKey({ method: 'emv-common', iccMk, r: '001C000000000000' }))
  const smi = iccMasterKey({ imk: 'FEDCBA98765432100123456789ABCDEF', pan: '1234567890123456', option: 'B' })
  t.equal(kcv4(sessionKey({ method: 'visa-sm', iccMk: smi, atc: '001C' })), 'DB10')
  // EMV2000 tree (pyemv tests/test_kd.py): ICC MK 0123456789ABCDEF0123456789ABCDEF.
  const tree: [string, number, number, string, string][] = [
    ['0000', 8, 4, '00'.repeat(16), '80BF3145AECB948A5201DAB9EF469875'],
    ['0000', 8, 4, 'F0'.repeat(16), 'DC31BC40B3AB8F73F2E3DA5EBF9DE59B'],
    ['0000', 16, 2, '00'.repeat(16), '86AD9732D5A192A749ADCE31919DAE8A'],
    ['0000', 16, 2, 'F0'.repeat(16), '7C57A15261202A101C6DA29B16672A3E'],
    ['00FF', 8, 4, '00'.repeat(16), '981F9D208AE6132CBC8A7C97F42A5445'],
    ['00FF', 8, 4, 'F0'.repeat(16), 'D579C8A4927589017FA1739B2C853BAD'],
    ['00FF', 16, 2, '00'.repeat(16), '1F54F492EF104580B0F4B0F8910D0438'],
    ['00FF', 16, 2, 'F0'.repeat(16), '2086F81AAB731FF8CED9BF6DA7191CA2'],
    ['FFFF', 8, 4, '00'.repeat(16), 'D93D7A6B70F867615D4AAB79BF235B62'],
    ['FFFF', 8, 4, 'F0'.repeat(16), 'A10EA78F2F1ACE203B3B402F6EE6CB29'],
    ['FFFF', 16, 2, '00'.repeat(16), 'F83E499EF786C20BC41310A176E3F84F'],
    ['FFFF', 16, 2, 'F0'.repeat(16), '73E3B0A1406E5E4908D5804C4970E520'],
  ]
  for (const [atc, height, branchFactor, iv, sk] of tree) {
    t.equal(sessionKey({ method: 'emv2000-tree', iccMk: '0123456789ABCDEF0123456789ABCDEF', atc, height, branchFactor, iv }), sk, `ATC ${atc} H${height} b${branchFactor}`)
  }
  t.throws(() => sessionKey({ method: 'emv2000-tree', iccMk, atc: 'FFFF', height: 2, branchFactor: 2 }), { code: 'invalid_argument' })
  t.throws(() => sessionKey({ method: 'emv-common', iccMk }), { code: 'invalid_argument' })
  t.throws(() => sessionKey({ method: 'visa-sm', iccMk, atc: '1C' }), { code: 'invalid_argument' })
})

void t.test('application cryptogram and ARPC methods 1 and 2', async (t) => {
  const data = '0123456789ABCDEF0123456789ABCDEF'
  const iccMk = iccMasterKey({ imk: IMK, pan: '12345678901234567', psn: '45', option: 'A' })
  const sk = sessionKey({ method: 'emv-common', iccMk, r: '1234567890123456' })
  t.equal(applicationCryptogram({ key: sk, data }), '19C1FBC83EBDC0D5')
  t.ok(verifyArqc({ key: sk, data, arqc: '19C1FBC83EBDC0D5' }))
  t.notOk(verifyArqc({ key: sk, data, arqc: '19C1FBC83EBDC0D4' }))
  t.equal(arpc({ method: 1, key: iccMk, arqc: '19C1FBC83EBDC0D5', arc: '0000' }), '78A372523FA35A03')
  t.equal(arpc({ method: 1, key: sk, arqc: '19C1FBC83EBDC0D5', arc: '0000' }), 'C3620580668E5B65')
  // Option B, 16-digit PAN: ARQC 0CE77D211CB5459A, ARPC method 2 with CSU 00000000 → 8CD9AA5D.
  const mkB = iccMasterKey({ imk: IMK, pan: '1234567890123456', option: 'B' })
  const skB = sessionKey({ method: 'emv-common', iccMk: mkB, r: '1234567890123456' })
  t.equal(kcv4(skB), 'BC19')
  t.equal(applicationCryptogram({ key: skB, data }), '0CE77D211CB5459A')
  t.equal(arpc({ method: 2, key: skB, arqc: '0CE77D211CB5459A', csu: '00000000' }), '8CD9AA5D')
  // pyemv ac.py doc examples: session key AAAA…BBBB, ARQC 1234567890ABCDEF.
  t.equal(arpc({ method: 1, key: 'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB', arqc: '1234567890ABCDEF', arc: '0000' }), 'F5E6F44147E2F1B0')
  t.equal(arpc({ method: 2, key: 'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB', arqc: '1234567890ABCDEF', csu: '00000000' }), '9308BEBC')
  t.equal(
    applicationCryptogram({
      key: 'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB',
      data: '000000002000' + '000000000000' + '0124' + '0000008000' + '0124' + '110309' + '00' + '3804823E' + '5800' + '0001',
    }),
    '3B76CF10FECD8789',
  )
  t.throws(() => arpc({ method: 1, key: sk, arqc: '19C1FBC83EBDC0', arc: '0000' }), { code: 'invalid_argument' })
  t.throws(() => arpc({ method: 2, key: sk, arqc: '19C1FBC83EBDC0D5', csu: '0000' }), { code: 'invalid_argument' })
})

const visaTags: CryptogramTags = {
  '9F02': '000000004000',
  '9F03': '000000000000',
  '9F1A': '0124',
  '95': '8000048000',
  '5F2A': '0124',
  '9A': '191105',
  '9C': '01',
  '9F37': '52BF4585',
  '82': '1800',
  '9F36': '001C',
  '9F10': '06010A03A06010',
}
const mcTags: CryptogramTags = {
  '9F02': '000000009999',
  '9F03': '000000000000',
  '9F1A': '0124',
  '95': '8000000000',
  '5F2A': '0124',
  '9A': '209906',
  '9C': '00',
  '9F37': 'ABCDEF12',
  '82': '1800',
  '9F36': '001C',
  '9F10': '0110A00003220000000000000000000000FF',
}

void t.test('scheme profiles verify the pyemv CVN vectors and return the ARPC', async (t) => {
  const pan = '1234567890123456'
  const ctx = createArqcContext(IMK)
  const cases: { profile: ArqcProfile; tags: CryptogramTags; arqc: string; extra: { arc?: string; csu?: string; un?: string }; arpc: string }[] = [
    // VisaCVN10: CVR 03A06010 (IAD bytes 3-6), ARC "00" = 3030.
    { profile: 'visa-cvn10', tags: visaTags, arqc: '29CCA15AE665FA2E', extra: { arc: '3030' }, arpc: '28993816AFAE4AEB' },
    { profile: 'visa-cvn18', tags: { ...visaTags, '9F10': '06011203A0B800' }, arqc: '7A788EA6B8A3E733', extra: { csu: '00000000' }, arpc: '9AF514C1' },
    { profile: 'visa-cvn22', tags: { ...visaTags, '9F10': '06011203A0B800' }, arqc: '7A788EA6B8A3E733', extra: { csu: '00000000' }, arpc: '9AF514C1' },
    { profile: 'mc-cvn16', tags: mcTags, arqc: '24CCF3DEE3158C70', extra: { arc: '0010', un: 'ABCDEF12' }, arpc: '73F6BBF389A6586C' },
    {
      profile: 'mc-cvn17',
      tags: { ...mcTags, '9F10': '0111A00003220000000000000000000322FF' },
      arqc: 'EAE8A620A75648D8',
      extra: { arc: '0010', un: 'ABCDEF12' },
      arpc: '29CF11FBDB9CA650',
    },
  ]
  for (const c of cases) {
    const cdolData = cryptogramData({ profile: c.profile, tags: c.tags })
    const base = { profile: c.profile, imk: IMK, pan, atc: '001C', cdolData, ...c.extra }
    t.same(verifyArqcProfile({ ...base, arqc: c.arqc }), { ok: true, arpc: c.arpc }, c.profile)
    const { imk: _imk, ...withoutImk } = base
    t.same(ctx.verifyArqcProfile({ ...withoutImk, arqc: c.arqc }), { ok: true, arpc: c.arpc }, `${c.profile} via createArqcContext`)
    t.equal(generateArqcProfile(base), c.arqc, `${c.profile} generate`)
    t.same(verifyArqcProfile({ ...base, arqc: flipBit(c.arqc, 5) }), { ok: false, arpc: null }, `${c.profile} tampered ARQC`)
    t.same(verifyArqcProfile({ ...base, cdolData: flipBit(cdolData, 17), arqc: c.arqc }), { ok: false, arpc: null }, `${c.profile} tampered data`)
  }
  t.equal(cryptogramData({ profile: 'visa-cvn10', tags: visaTags }), '0000000040000000000000000124800004800001241911050152BF45851800001C03A06010')
  t.throws(() => verifyArqcProfile({ profile: 'mc-cvn16', imk: IMK, pan, atc: '001C', cdolData: '00', arqc: '24CCF3DEE3158C70' }), { code: 'invalid_argument' })
  t.throws(() => cryptogramData({ profile: 'mc-cvn17', tags: { ...mcTags, '9F10': '0110A0' } }), { code: 'invalid_argument' })
  t.throws(() => verifyArqcProfile({ profile: 'amex' as ArqcProfile, imk: IMK, pan, atc: '001C', cdolData: '00', arqc: '00'.repeat(8) }), { code: 'invalid_argument' })
})

void t.test('profile property: verify(generate) is ok for any IMK, PAN, ATC, UN and data; a changed ATC fails', async (t) => {
  const profiles: ArqcProfile[] = ['visa-cvn10', 'visa-cvn18', 'visa-cvn22', 'mc-cvn16', 'mc-cvn17']
  fc.assert(
    fc.property(
      fc.constantFrom(...profiles),
      hexBytes(16),
      digits(13, 19),
      hexBytes(2),
      hexBytes(4),
      fc.integer({ min: 1, max: 64 }).chain(hexBytes),
      (profile, imk, pan, atc, un, cdolData) => {
        const base = { profile, imk, pan, atc, un, cdolData }
        const arqc = generateArqcProfile(base)
        const good = verifyArqcProfile({ ...base, arqc, arc: '3030', csu: '00000000' })
        // Visa CVN 10 does not use the ATC in its key, so only session-key profiles are checked for it.
        const otherAtc = flipBit(atc, 3)
        const changed = profile === 'visa-cvn10' ? false : verifyArqcProfile({ ...base, atc: otherAtc, arqc }).ok
        return good.ok && good.arpc !== null && !changed
      },
    ),
    { numRuns: 200 },
  )
  t.pass('property held')
})
