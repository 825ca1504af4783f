// In-process micro-benchmark of the hot verification paths the key service calls. Writes ops/s to
// bench/results.json next to this file. Run: pnpm --filter @cardplane/payment-crypto bench
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import {
  createArqcContext,
  createCvvContext,
  createPvvContext,
  cryptogramData,
  encodePinBlock,
  encryptPinBlock,
  generateArqcProfile,
  translatePinBlock,
  tr31Unwrap,
  tr31Wrap,
  verifyArqcProfile,
  verifyCvv,
  verifyPvv,
} from '../src/index.js'

const DURATION_MS = Number(process.env['BENCH_MS'] ?? 1500)

/**
 * Wall-clock ops/s, plus ops per CPU-second of this process: on a shared 2-core machine the
 * second figure is what one uncontended core would do, the first what this run actually got.
 */
function measure(name: string, fn: () => unknown): { name: string; opsPerSec: number; opsPerCpuSec: number; iterations: number } {
  // Warm up so the JIT and OpenSSL's cipher fetch caches settle before timing.
  for (let i = 0; i < 2000; i++) fn()
  let iterations = 0
  const cpuStart = process.cpuUsage()
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(DURATION_MS) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let i = 0; i < 500; i++) fn()
    iterations += 500
    now = process.hrtime.bigint()
  }
  const seconds = Number(now - start) / 1e9
  const cpu = process.cpuUsage(cpuStart)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  const opsPerSec = Math.round(iterations / seconds)
  const opsPerCpuSec = Math.round(iterations / cpuSeconds)
  console.log(`${name.padEnd(34)} ${opsPerSec.toLocaleString('en-US').padStart(10)} ops/s  ${opsPerCpuSec.toLocaleString('en-US').padStart(10)} ops/cpu-s`)
  return { name, opsPerSec, opsPerCpuSec, iterations }
}

const CVK = '0123456789ABCDEFFEDCBA9876543210'
const cvvInput = { cvk: CVK, pan: '4123456789012345', expiry: '8701', serviceCode: '101', cvv: '561' }
if (!verifyCvv(cvvInput)) throw new Error('benchmark fixture: CVV does not verify')

const pvvInput = { pvk: CVK, pan: '1122334455667788', pvki: '1', pin: '4524', pvv: '8523' }
if (!verifyPvv(pvvInput)) throw new Error('benchmark fixture: PVV does not verify')

const tags = {
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
  '9F10': '0111A00003220000000000000000000322FF',
}
const mc17 = { profile: 'mc-cvn17' as const, imk: CVK, pan: '1234567890123456', atc: '001C', un: 'ABCDEF12', cdolData: cryptogramData({ profile: 'mc-cvn17', tags }) }
const mc17Arqc = generateArqcProfile(mc17)
const visaTags = { ...tags, '9F37': '52BF4585', '9F10': '06011203A0B800' }
const v18 = { profile: 'visa-cvn18' as const, imk: CVK, pan: '1234567890123456', atc: '001C', cdolData: cryptogramData({ profile: 'visa-cvn18', tags: visaTags }) }
const v18Arqc = generateArqcProfile(v18)

const pan = '4000001234562000'
const zpk = 'A1B2C3D4E5F60718293A4B5C6D7E8F90'
const pvkZone = '0F1E2D3C4B5A69788796A5B4C3D2E1F0'
const pinBlock = encryptPinBlock({ key: zpk, clearBlock: encodePinBlock({ format: 0, pin: '1234', pan }), format: 0 })

const kbpk = '88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6'
const keyBlock = tr31Wrap({ kbpk, key: CVK, header: { version: 'D', keyUsage: 'C0', algorithm: 'T', modeOfUse: 'C', exportability: 'E' } })

// "context" rows bind the key to reusable OpenSSL contexts once (what a long-lived key service holds).
const cvvCtx = createCvvContext(CVK)
const { cvk: _cvk, ...cvvCard } = cvvInput
const pvvCtx = createPvvContext(CVK)
const { pvk: _pvk, ...pvvCard } = pvvInput
const arqcCtx = createArqcContext(CVK)
const { imk: _imk, ...mc17Card } = mc17

const results = [
  measure('cvv verify', () => verifyCvv(cvvInput)),
  measure('cvv verify (context)', () => cvvCtx.verifyCvv(cvvCard)),
  measure('pvv verify', () => verifyPvv(pvvInput)),
  measure('pvv verify (context)', () => pvvCtx.verifyPvv(pvvCard)),
  measure('arqc verify mc-cvn17', () => verifyArqcProfile({ ...mc17, arqc: mc17Arqc, arc: '0010' })),
  measure('arqc verify mc-cvn17 (context)', () => arqcCtx.verifyArqcProfile({ ...mc17Card, arqc: mc17Arqc, arc: '0010' })),
  measure('arqc verify visa-cvn18', () => verifyArqcProfile({ ...v18, arqc: v18Arqc, csu: '00000000' })),
  measure('pin translate 0->0', () => translatePinBlock({ sourceKey: zpk, destKey: pvkZone, block: pinBlock, sourceFormat: 0, destFormat: 0, pan })),
  measure('tr31 unwrap (D, AES-256)', () => tr31Unwrap({ kbpk, keyBlock })),
]

const out = {
  generatedAt: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  // Other processes share this machine; the load average says how contended the run was.
  loadAverage1m: loadavg()[0],
  durationMsPerCase: DURATION_MS,
  results,
}
const file = fileURLToPath(new URL('./results.json', import.meta.url))
writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
console.log(`wrote ${file}`)
