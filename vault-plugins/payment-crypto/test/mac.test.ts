import t from 'tap'
import fc from 'fast-check'
import { createCipheriv } from 'node:crypto'
import { cmac, retailMac } from '../src/index.js'
import { flipBit, hexBytes } from './helpers.js'

const M = '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710'
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex')

void t.test('CMAC-AES matches NIST SP 800-38B Appendix D.1-D.3 (AES-128/192/256, Examples 1-12)', async (t) => {
  // NIST SP 800-38B Appendix D (also RFC 4493 §4 for AES-128); message prefixes of 0, 16, 40, 64 bytes.
  const cases: [string, number, string][] = [
    ['2b7e151628aed2a6abf7158809cf4f3c', 0, 'bb1d6929e95937287fa37d129b756746'],
    ['2b7e151628aed2a6abf7158809cf4f3c', 16, '070a16b46b4d4144f79bdd9dd04a287c'],
    ['2b7e151628aed2a6abf7158809cf4f3c', 40, 'dfa66747de9ae63030ca32611497c827'],
    ['2b7e151628aed2a6abf7158809cf4f3c', 64, '51f0bebf7e3b9d92fc49741779363cfe'],
    ['8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b', 0, 'd17ddf46adaacde531cac483de7a9367'],
    ['8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b', 16, '9e99a7bf31e710900662f65e617c5184'],
    ['8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b', 40, '8a1de5be2eb31aad089a82e6ee908b0e'],
    ['8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b', 64, 'a1d5df0eed790f794d77589659f39a11'],
    ['603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', 0, '028962f61b7bf89efc6b551f4667d983'],
    ['603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', 16, '28a7023f452e8f82bd4bf28d8c37c35c'],
    ['603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', 40, 'aaf3d8f1de5640c232f5b169b9c911e6'],
    ['603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4', 64, 'e1992190549f6ed5696a2c056c315410'],
  ]
  for (const [key, len, tag] of cases) {
    t.equal(cmac({ key, data: M.slice(0, len * 2), algorithm: 'aes' }), tag.toUpperCase(), `key ${key.length * 4} bits, ${len} bytes`)
  }
})

void t.test('CMAC-TDES matches NIST SP 800-38B Appendix D.4 and D.7 (updated examples 13-20)', async (t) => {
  // Three-key and two-key TDEA examples, with NIST's published errata for examples 14, 15, 18, 19.
  const cases: [string, number, string][] = [
    ['8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5', 0, 'b7a688e122ffaf95'],
    ['8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5', 8, '8e8f293136283797'],
    ['8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5', 20, '743ddbe0ce2dc2ed'],
    ['8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5', 32, '33e6b1092400eae5'],
    ['4cf15134a2850dd58a3d10ba80570d38', 0, 'bd2ebf9a3ba00361'],
    ['4cf15134a2850dd58a3d10ba80570d38', 8, '4ff2ab813c53ce83'],
    ['4cf15134a2850dd58a3d10ba80570d38', 20, '62dd1b471902bd4e'],
    ['4cf15134a2850dd58a3d10ba80570d38', 32, '31b1e431dabc4eb8'],
  ]
  for (const [key, len, tag] of cases) {
    t.equal(cmac({ key, data: M.slice(0, len * 2), algorithm: 'tdes' }), tag.toUpperCase(), `key ${key.length / 2} bytes, ${len} bytes`)
  }
  t.equal(cmac({ key: cases[1]![0], data: M.slice(0, 16), algorithm: 'tdes', length: 4 }), '8E8F2931', 'truncated tag')
})

void t.test('retail MAC (ISO/IEC 9797-1 algorithm 3) known answers', async (t) => {
  // ISO/IEC 9797-1:2011 Annex B.4 examples (as reproduced in RustCrypto's retail-mac docs and
  // ANSI X9.19): K = 0123456789ABCDEF, K' = FEDCBA9876543210.
  const iso = '0123456789ABCDEFFEDCBA9876543210'
  t.equal(retailMac({ key: iso, data: ascii('Now is the time for all '), padding: 1 }), 'A1C72E74EA3FA9B6')
  t.equal(retailMac({ key: iso, data: ascii('Now is the time for all '), padding: 2 }), 'E9086230CA3BE796')
  t.equal(retailMac({ key: iso, data: ascii('Now is the time for it'), padding: 1 }), '2E2B1428CC78254F')
  // Bouncy Castle ISO9797Alg3MacTest: key 7CA110454A1A6E570131D9619DC1376E, "Hello World !!!!" (no padding needed).
  t.equal(retailMac({ key: '7CA110454A1A6E570131D9619DC1376E', data: ascii('Hello World !!!!') }), 'F09B856213BAB83B')
  // pyemv tests/test_mac.py: K = AA.., K' = BB.., "hello world", padding methods 1 and 2.
  t.equal(retailMac({ key: 'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB', data: ascii('hello world'), padding: 1 }), '78DA3D3DEB48FD4D')
  t.equal(retailMac({ key: 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb', data: ascii('hello world'), padding: 2 }), '2BC2D9EDE0CF31F6')
  t.equal(retailMac({ key: 'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB', data: ascii('hello world'), padding: 2, length: 4 }), '2BC2D9ED')
})

void t.test('retail MAC with K = K\' equals single-DES CBC-MAC (ISO/IEC 9797-1 algorithm 1), computed independently', async (t) => {
  // With K = K' the final D_K'(E_K(.)) cancels; node's own des-ede3-cbc with K‖K‖K is the reference.
  fc.assert(
    fc.property(hexBytes(8), fc.integer({ min: 1, max: 5 }).chain((n) => hexBytes(n * 8)), (k, data) => {
      const c = createCipheriv('des-ede3-cbc', Buffer.from(k + k + k, 'hex'), Buffer.alloc(8)).setAutoPadding(false)
      const out = Buffer.concat([c.update(Buffer.from(data, 'hex')), c.final()])
      return retailMac({ key: k + k, data }) === out.subarray(out.length - 8).toString('hex').toUpperCase()
    }),
  )
  t.pass('identity held')
})

void t.test('MAC properties: a one-bit change in data or key changes the MAC', async (t) => {
  fc.assert(
    fc.property(hexBytes(16), hexBytes(24), fc.nat(191), (key, data, bit) => {
      const mac = retailMac({ key, data, padding: 2 })
      return mac !== retailMac({ key, data: flipBit(data, bit), padding: 2 })
    }),
  )
  fc.assert(
    fc.property(hexBytes(16), hexBytes(24), fc.nat(191), (key, data, bit) => {
      return cmac({ key, data, algorithm: 'aes' }) !== cmac({ key, data: flipBit(data, bit), algorithm: 'aes' })
    }),
  )
  t.pass('properties held')
})

void t.test('MAC input errors are typed', async (t) => {
  t.throws(() => retailMac({ key: 'ZZ', data: '' }), { code: 'invalid_hex' })
  t.throws(() => retailMac({ key: '0123456789ABCDEF', data: '' }), { code: 'invalid_key_length' })
  t.throws(() => retailMac({ key: '0123456789ABCDEF0123456789ABCDEF', data: '0' }), { code: 'invalid_hex' })
  t.throws(() => retailMac({ key: '0123456789ABCDEF0123456789ABCDEF', data: '', padding: 3 as 1 }), { code: 'invalid_argument' })
  t.throws(() => cmac({ key: '0123456789ABCDEF0123456789ABCDEF', data: '', algorithm: 'aes', length: 17 }), { code: 'invalid_argument' })
  t.throws(() => cmac({ key: '0123456789ABCDEF', data: '', algorithm: 'tdes' }), { code: 'invalid_key_length' })
})
