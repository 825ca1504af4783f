import t from 'tap'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadPrograms, toCdeProgram, type Program } from '../src/domain/programs.js'

const shipped = fileURLToPath(new URL('../config/programs.json', import.meta.url))

t.test('the shipped programs file is valid and maps to the card vault definition', async (t) => {
  const programs = loadPrograms(shipped)
  t.ok(programs.has('demo-debit-gb'))
  const p = programs.get('demo-debit-gb')!
  t.same(toCdeProgram(p), {
    id: 'demo-debit-gb',
    bin: '45399100',
    panLength: 16,
    accountStart: '0000000',
    rangeSize: '10000000',
    validityMonths: 36,
    serviceCode: '201',
    pinTryLimit: 3,
    cvkName: 'cvk',
    pvkName: 'pvk',
    pvki: 1,
    imkAcName: 'imk-ac',
    arqcProfile: 'visa-cvn18',
  })
})

t.test('bad program files are refused with the program and field named', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'programs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const base = loadPrograms(shipped).get('demo-debit-gb')!
  const write = async (programs: unknown): Promise<string> => {
    const f = join(dir, `${Math.random()}.json`)
    await writeFile(f, JSON.stringify({ programs }))
    return f
  }
  const bad: [Partial<Program> & Record<string, unknown>, RegExp][] = [
    [{ currency: 'gbp' }, /currency/],
    [{ bin: '4539' }, /bin/],
    [{ panLength: 20 }, /panLength/],
    [{ accountRange: { start: '9999999', size: '2' } }, /accountRange exceeds/],
    [{ pin: { tryLimit: 0 } }, /tryLimit/],
    [{ country: 'GBR' }, /country/],
  ]
  for (const [change, msg] of bad) {
    t.throws(() => loadPrograms(join(dir, 'missing.json')), { code: 'programs_invalid' })
    const f = await write([{ ...base, ...change }])
    t.throws(() => loadPrograms(f), { code: 'programs_invalid', message: msg }, JSON.stringify(change))
  }
  const overlap = await write([base, { ...base, id: 'other', accountRange: { start: '5000000', size: '10' } }])
  t.throws(() => loadPrograms(overlap), { message: /overlaps/ })
  const dup = await write([base, base])
  t.throws(() => loadPrograms(dup), { message: /duplicate/ })
  const launch = await write([base, { ...base, id: 'demo-debit-ie', country: 'IE', currency: 'EUR', accountRange: { start: '5000000', size: '10' }, bin: '45399101' }])
  t.equal(loadPrograms(launch).get('demo-debit-ie')?.currency, 'EUR', 'a new country is one more entry')
})
