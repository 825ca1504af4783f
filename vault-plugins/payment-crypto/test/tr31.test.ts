import t from 'tap'
import fc from 'fast-check'
import { tr31Unwrap, tr31Wrap, type Tr31Version } from '../src/index.js'
import { hexBytes } from './helpers.js'
import { decodeHeader, encodeHeader } from '../src/tr31-header.js'

// Known key blocks. The 89E88CF7…/DD7515F2…/B8ED59E0…/1D22BF32… rows are the ASC X9 TR-31:2018
// Annex A examples and the D0112… row is the AES example of ANSI X9.143 / TR-31:2018 Annex A, as
// reproduced in psec tests/test_tr31.py (test_kb_known_values); the AAAA…/BBBB… rows are psec's own.
const KNOWN: [kbpk: string, key: string, block: string][] = [
  ['89E88CF7931444F334BD7547FC3F380C', 'F039121BEC83D26B169BDCD5B22AAF8F', 'A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24192FDB3193C730301CEE8701'],
  ['DD7515F2BFC17F85CE48F3CA25CB21F6', '3F419E1CB7079442AA37474C2EFBF8B8', 'B0080P0TE00E000094B420079CC80BA3461F86FE26EFC4A3B8E4FA4C5F5341176EED7B727B8A248E'],
  ['B8ED59E0A279A295E9F5ED7944FD06B9', 'EDB380DD340BC2620247D445F5B8D678', 'C0096B0TX12S0100KS1800604B120F9292800000BFB9B689CB567E66FC3FEE5AD5F52161FC6545B9D60989015D02155C'],
  ['1D22BF32387C600AD97F9B97A51311AC', 'E8BC63E5479455E26577F715D587FE68', 'B0104B0TX12S0100KS1800604B120F9292800000BB68BE8680A400D9191AD4ECE45B6E6C0D21C4738A52190E248719E24B433627'],
  ['89E88CF7931444F334BD7547FC3F380C', 'F039121BEC83D26B169BDCD5B22AAF8F', 'A0088P0TE00E00007DD4DD9566DC0E2F956DCAC0FDE9153159539373E9D82D3CD4AFD305A7EF1BA67FE03712'],
  ['89E88CF7931444F334BD7547FC3F380C', 'F039121BEC83D26B169BDCD5B22AAF8F', 'B0120P0TE12E0100KS1800604B120F9292800000E6E28F097CB0350B2EB2DF520947F779FA34D9759CEE7E0DEEACF8353DB778D47FA4EC20DA3A9754'],
  ['B8ED59E0A279A295E9F5ED7944FD06B9', 'F039121BEC83D26B169BDCD5B22AAF8F', 'A0112P0TE12E0200KS1400604B120F929280PB047A1BB737854CD7AF58A8A1E4506A942277EDA76EBA6BA228AF62ADDA3AD8799E8B2C8CD7'],
  [
    '88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6',
    '3F419E1CB7079442AA37474C2EFBF8B8',
    'D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC34',
  ],
  ['AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB', 'EEEEEEEEEEEEEEEE', 'A0088M3TC00E000062C2C14D8785A01A9E8283525CA96F490D0CC6346FC7C2AC1E6FF354468910379AA5BBA6'],
  ['AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB', 'EEEEEEEEEEEEEEEE', 'B0096M3TC00E0000B6CD513680EF255FC0DC590726FD0129A7CF6602E7F271631AB4EE7350642F11181AF4CC12F12FD9'],
  ['AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB', 'EEEEEEEEEEEEEEEE', 'C0088M3TC00E0000A53CF172FE6562E7FDD5E6482E8925DA46F7FFE4D1BAD49EB33A9EDBB96A8A8D39F13A31'],
  ['AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC', 'CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD', 'B0096M3TC00E0000C7C6FE86A5DE769C20DCA238C52341378B484D544A9764D43963C3B2824AE56C2D07A565DD3AB342'],
]

void t.test('unwraps the published TR-31 / X9.143 example key blocks', async (t) => {
  for (const [kbpk, key, keyBlock] of KNOWN) {
    const r = tr31Unwrap({ kbpk, keyBlock })
    t.equal(r.key, key, keyBlock.slice(0, 16))
  }
  const c = tr31Unwrap({ kbpk: KNOWN[2]![0], keyBlock: KNOWN[2]![2] })
  t.same(c.header, {
    version: 'C',
    keyUsage: 'B0',
    algorithm: 'T',
    modeOfUse: 'X',
    keyVersionNumber: '12',
    exportability: 'S',
    optionalBlocks: [{ id: 'KS', data: '00604B120F9292800000' }],
  })
  const a = tr31Unwrap({ kbpk: KNOWN[6]![0], keyBlock: KNOWN[6]![2] })
  t.same(a.header.optionalBlocks, [{ id: 'KS', data: '00604B120F929280' }], 'PB padding block is stripped')
})

void t.test('a wrong KBPK or any altered character fails with tr31_mac_mismatch before a key is returned', async (t) => {
  for (const [kbpk, , keyBlock] of KNOWN) {
    const wrong = (kbpk[0] === 'A' ? 'B' : 'A') + kbpk.slice(1)
    t.throws(() => tr31Unwrap({ kbpk: wrong, keyBlock }), { code: 'tr31_mac_mismatch' }, `wrong KBPK ${keyBlock[0]}`)
  }
  // Alter one character of the encrypted key, of the MAC and of the header (key usage P0 -> P1).
  const [kbpk, , block] = KNOWN[1]!
  const flipHex = (s: string, i: number): string => s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1)
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: flipHex(block, 20) }), { code: 'tr31_mac_mismatch' })
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: flipHex(block, block.length - 1) }), { code: 'tr31_mac_mismatch' })
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: block.replace('P0TE', 'P1TE') }), { code: 'tr31_mac_mismatch' })
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: block.replace('P0TE00E', 'P0TE00N') }), { code: 'tr31_mac_mismatch' }, 'exportability is bound')
})

void t.test('malformed key blocks fail with typed errors', async (t) => {
  const [kbpk, , block] = KNOWN[1]!
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: 'B0016P0TE00' }), { code: 'tr31_bad_header' })
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: 'X' + block.slice(1) }), { code: 'tr31_unsupported_version' })
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: block.slice(0, -8) }), { code: 'tr31_bad_length' })
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: 'B0040P0TE00N0000' + '0'.repeat(24) }), { code: 'tr31_bad_length' }, 'no key data')
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: 'B0080P0TE00N0100KS1800604B120F9292800000' + '0'.repeat(40) }), { code: 'tr31_bad_length' })
  t.throws(() => tr31Unwrap({ kbpk, keyBlock: 'B0000P0TE00N0100**04' }), { code: 'tr31_bad_header' })
  t.throws(() => tr31Unwrap({ kbpk: '0123', keyBlock: block }), { code: 'invalid_key_length' })
  t.throws(() => tr31Unwrap({ kbpk: KNOWN[7]![0].slice(0, 34), keyBlock: KNOWN[7]![2] }), { code: 'invalid_key_length' })
  t.throws(() => tr31Wrap({ kbpk, key: '00', header: { version: 'B', keyUsage: 'p0', algorithm: 'T', modeOfUse: 'E', exportability: 'E' } }), {
    code: 'tr31_bad_header',
  })
  t.throws(() => tr31Wrap({ kbpk, key: '00', header: { version: 'E' as 'B', keyUsage: 'P0', algorithm: 'T', modeOfUse: 'E', exportability: 'E' } }), {
    code: 'tr31_unsupported_version',
  })
})

void t.test('wrap/unwrap round trip for every version, key length and optional blocks', async (t) => {
  const kbpkLen: Record<Tr31Version, number[]> = { A: [8, 16, 24], B: [16, 24], C: [8, 16, 24], D: [16, 24, 32] }
  const arb = fc
    .constantFrom<Tr31Version>('A', 'B', 'C', 'D')
    .chain((version) =>
      fc.record({
        version: fc.constant(version),
        kbpk: fc.constantFrom(...kbpkLen[version]).chain(hexBytes),
        key: fc.constantFrom(8, 16, 24, 32).chain(hexBytes),
        algorithm: fc.constantFrom('T', 'A', 'H'),
        blocks: fc.array(
          fc.record({ id: fc.constantFrom('KS', 'KC', 'TS', 'HM', 'IK'), data: fc.stringMatching(/^[0-9A-Z]{0,40}$/) }),
          { maxLength: 3 },
        ),
      }),
    )
  fc.assert(
    fc.property(arb, ({ version, kbpk, key, algorithm, blocks }) => {
      const header = { version, keyUsage: 'K0', algorithm, modeOfUse: 'B', keyVersionNumber: '07', exportability: 'E', optionalBlocks: blocks }
      const keyBlock = tr31Wrap({ kbpk, key, header })
      const out = tr31Unwrap({ kbpk, keyBlock })
      return (
        out.key === key &&
        Number(keyBlock.slice(1, 5)) === keyBlock.length &&
        JSON.stringify(out.header) === JSON.stringify(header) &&
        keyBlock !== tr31Wrap({ kbpk, key, header })
      )
    }),
    { numRuns: 150 },
  )
  t.pass('round trips held')
})

void t.test('key length is masked to the algorithm maximum by default', async (t) => {
  const header = { version: 'D' as const, keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', exportability: 'E' }
  const kbpk = '00'.repeat(32)
  const short = tr31Wrap({ kbpk, key: '11'.repeat(16), header })
  const long = tr31Wrap({ kbpk, key: '11'.repeat(32), header })
  t.equal(short.length, long.length, 'AES-128 and AES-256 blocks have the same length')
  t.equal(tr31Wrap({ kbpk, key: '11'.repeat(16), header, maskedKeyLength: 16 }).length < short.length, true)
})

void t.test('header codec matches psec tests/test_tr31.py header cases', async (t) => {
  // Parsing: short and extended optional-block lengths (length of length counts bytes).
  const short = decodeHeader('B0000P0TE00N0100KS1800604B120F9292800000xxxxxxxx')
  t.equal(short.headerLength, 40)
  t.same(short.header.optionalBlocks, [{ id: 'KS', data: '00604B120F9292800000' }])
  const ext = decodeHeader('B0000P0TE00N0200KS00011600604B120F9292PB0A000000')
  t.equal(ext.headerLength, 48)
  t.same(ext.header.optionalBlocks, [{ id: 'KS', data: '00604B120F9292' }])
  const big = decodeHeader('B0000P0TE00N0200KS0002010A' + 'P'.repeat(256) + 'PB0600')
  t.equal(big.headerLength, 288)
  t.same(big.header.optionalBlocks, [{ id: 'KS', data: 'P'.repeat(256) }])
  const multi = decodeHeader('B0000P0TE00N0400KS1800604B120F9292800000T104T20600PB0600')
  t.same(multi.header.optionalBlocks, [
    { id: 'KS', data: '00604B120F9292800000' },
    { id: 'T1', data: '' },
    { id: 'T2', data: '00' },
  ])
  for (const bad of ['B0000P0TE00N0100', 'B0000P0TE00N0100KS1', 'B0000P0TE00N0100KS02', 'B0000P0TE00N0100KS0000', 'B0000P0TE00N0100KS0001FF', 'B0000P0TE00N0100KS071']) {
    t.throws(() => decodeHeader(bad), { code: 'tr31_bad_header' }, bad)
  }
  // Serialising: PB padding to the block size (8 for B, 16 for D), as psec renders it.
  const ks = (data: string) => ({ version: 'D' as const, keyUsage: 'P0', algorithm: 'T', modeOfUse: 'E', exportability: 'N', optionalBlocks: [{ id: 'KS', data }] })
  t.equal(encodeHeader(ks('00604B120F9292800000'), 0), 'D0048P0TE00N0200KS1800604B120F9292800000PB080000')
  t.equal(encodeHeader(ks('00604B120F9292'), 0), 'D0048P0TE00N0200KS1200604B120F9292PB0E0000000000')
  t.equal(encodeHeader({ ...ks('00604B120F9292'), version: 'B' }, 0), 'B0040P0TE00N0200KS1200604B120F9292PB0600')
  t.equal(encodeHeader({ ...ks('P'.repeat(256)), version: 'B' }, 0), 'B0288P0TE00N0200KS0002010A' + 'P'.repeat(256) + 'PB0600')
  t.same(decodeHeader(encodeHeader({ ...ks('P'.repeat(256)), version: 'B' }, 0)).header.optionalBlocks, [{ id: 'KS', data: 'P'.repeat(256) }])
})
