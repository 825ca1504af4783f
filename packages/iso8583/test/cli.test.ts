import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runIso8583Cli, type CliIo } from '../src/cli.js'
import { getSpec } from '../src/index.js'
import { visa0100 } from './fixtures.js'

function io(stdin: Buffer = Buffer.alloc(0)): CliIo & { out: string; err: string } {
  const o = { out: '', err: '' }
  return Object.assign(o, {
    readStdin: async () => stdin,
    stdout: (s: string) => void (o.out += s),
    stderr: (s: string) => void (o.err += s),
  })
}

const SAMPLE = Buffer.from('01007000000000000000164242424242424242123456000000000100', 'latin1')

t.test('decode --hex prints the JSON shape; encode reads it back', async (t) => {
  const a = io()
  t.equal(await runIso8583Cli(['decode', '--spec', 'iso87-ascii', '--hex', SAMPLE.toString('hex')], a), 0)
  t.same(JSON.parse(a.out), { mti: '0100', fields: { '2': '4242424242424242', '3': '123456', '4': '000000000100' } })
  const b = io(Buffer.from(a.out))
  t.equal(await runIso8583Cli(['encode', '--spec', 'iso87-ascii'], b), 0)
  t.equal(b.out.trim(), SAMPLE.toString('hex').toUpperCase())
})

t.test('decode from raw stdin, binary fields as upper-case hex, --tlv view, --describe masks', async (t) => {
  const spec = getSpec('visa-base1')
  const raw = spec.encode(visa0100())
  const a = io(raw)
  t.equal(await runIso8583Cli(['decode', '--spec', 'visa-base1', '--tlv'], a), 0)
  const json = JSON.parse(a.out) as { fields: Record<string, unknown>; tlv: Record<string, { tag: string }[]> }
  t.match(json.fields['55'], /^0100[0-9A-F]+$/)
  t.same(json.fields['62'], { '1': 'Y', '2': '123456789012345' })
  t.equal(json.tlv['55']![0]!.tag, '9F26')
  // JSON → encode → identical bytes
  const b = io(Buffer.from(a.out))
  t.equal(await runIso8583Cli(['encode', '--spec', 'visa-base1'], b), 0)
  t.equal(b.out.trim(), raw.toString('hex').toUpperCase())
  const d = io(raw)
  t.equal(await runIso8583Cli(['decode', '--spec', 'visa-base1', '--describe'], d), 0)
  t.match(d.out, /476173\*+0010/)
  t.notMatch(d.out, /4761739001010010/)
})

t.test('spec from a JSON file path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iso8583-cli-'))
  const file = join(dir, 'mini.json')
  writeFileSync(file, JSON.stringify({ name: 'mini', mti: { encoding: 'ascii' }, bitmap: { encoding: 'hex-ascii' }, fields: { '3': { type: 'n', encoding: 'ascii', length: 6 } } }))
  const a = io()
  t.equal(await runIso8583Cli(['decode', '--spec', file, '--hex', Buffer.from('08002000000000000000123456').toString('hex')], a), 0)
  t.same(JSON.parse(a.out).fields, { '3': '123456' })
})

t.test('errors: typed codec errors exit 1 without values, usage errors exit 2', async (t) => {
  const a = io()
  t.equal(await runIso8583Cli(['decode', '--spec', 'iso87-ascii', '--hex', SAMPLE.subarray(0, 30).toString('hex')], a), 1)
  t.match(a.err, /TRUNCATED at 2/)
  t.notMatch(a.err, /4242/)
  t.equal(await runIso8583Cli(['decode', '--hex', '00'], io()), 2, 'missing --spec')
  t.equal(await runIso8583Cli(['frobnicate', '--spec', 'x'], io()), 2)
  t.equal(await runIso8583Cli(['decode', '--spec', 'iso87-ascii', '--hex', 'zz'], io()), 2)
  t.equal(await runIso8583Cli(['encode', '--spec', 'iso87-ascii'], io(Buffer.from('{nope'))), 2)
  const u = io()
  t.equal(await runIso8583Cli(['decode', '--spec', 'no-such-spec', '--hex', '00'], u), 1)
  t.match(u.err, /UNKNOWN_SPEC/)
  const s = io()
  t.equal(await runIso8583Cli(['specs'], s), 0)
  t.match(s.out, /visa-base1/)
})
