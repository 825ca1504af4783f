/**
 * Test and benchmark fixtures. Card numbers are public test PANs; nothing here is real card data.
 */
import { encodeTlv, type Message, type TlvNode } from '../src/index.js'

const h = (s: string): Buffer => Buffer.from(s, 'hex')

/** EMV data of a typical contact-chip authorisation (107 bytes of TLV). */
export function sampleIcc(): Buffer {
  const nodes: TlvNode[] = [
    { tag: '9F26', value: h('1D2A3B4C5D6E7F80') }, // ARQC
    { tag: '9F27', value: h('80') },
    { tag: '9F10', value: h('06010A03A0B800') },
    { tag: '9F37', value: h('0BADF00D') },
    { tag: '9F36', value: h('0042') },
    { tag: '95', value: h('0000008000') },
    { tag: '9A', value: h('261121') },
    { tag: '9C', value: h('00') },
    { tag: '9F02', value: h('000000012345') },
    { tag: '5F2A', value: h('0978') },
    { tag: '82', value: h('1980') },
    { tag: '9F1A', value: h('0250') },
    { tag: '9F03', value: h('000000000000') },
    { tag: '9F33', value: h('E0F8C8') },
    { tag: '9F34', value: h('420300') },
    { tag: '9F35', value: h('22') },
    { tag: '9F6E', value: h('20700000') },
  ]
  return encodeTlv(nodes)
}

/** Visa DE 55: dataset ID 01, 2-byte dataset length, then the TLV data. */
export function visaDe55(icc: Buffer): Buffer {
  const out = Buffer.alloc(3 + icc.length)
  out[0] = 0x01
  out.writeUInt16BE(icc.length, 1)
  icc.copy(out, 3)
  return out
}

/** A Visa BASE I 0100 chip authorisation with 22 fields including DE 55 and composites 62, 63. */
export function visa0100(): Message {
  return {
    mti: '0100',
    fields: {
      '2': '4761739001010010',
      '3': '000000',
      '4': '000000012345',
      '7': '1121093015',
      '11': '123456',
      '12': '093015',
      '13': '1121',
      '14': '2812',
      '18': '5411',
      '19': '250',
      '22': '0510',
      '23': '001',
      '25': '00',
      '32': '12345678901',
      '35': '4761739001010010D28122011234567890',
      '37': '632509123456',
      '41': 'TERM0001',
      '42': 'MERCHANT0000001',
      '43': 'CARDPLANE TEST SHOP     PARIS         FR',
      '49': '978',
      '55': visaDe55(sampleIcc()),
      '62': { '1': 'Y', '2': '123456789012345' },
      '63': { '1': '0002', '3': '2501' },
    },
  }
}

/** The same 0100 as ASCII fields for the `iso_8583` npm package (which only handles ASCII). */
export function ascii0100ForNpm(): Record<number, string> {
  return {
    0: '0100',
    2: '4761739001010010',
    3: '000000',
    4: '000000012345',
    7: '1121093015',
    11: '123456',
    12: '093015',
    13: '1121',
    14: '2812',
    18: '5411',
    19: '250',
    22: '051',
    23: '001',
    25: '00',
    32: '12345678901',
    35: '4761739001010010D28122011234567890',
    37: '632509123456',
    41: 'TERM0001',
    42: 'MERCHANT0000001',
    43: 'CARDPLANE TEST SHOP     PARIS         FR',
    49: '978',
    55: visaDe55(sampleIcc()).toString('hex').toUpperCase(),
  }
}
