/**
 * Pack/unpack throughput of a Visa BASE I 0100 (23 fields, 110-byte DE 55, composites 62/63) on one
 * core, measured in the same run as (a) a hand-written codec for exactly that message and (b) the
 * `iso_8583` npm package on the equivalent ASCII message. Each case runs in its own child process
 * (own JIT state and heap, so one library's garbage or type feedback cannot slow another). The
 * machine is shared, so figures are reported per wall-clock second (best round) and per CPU second
 * (median), and the ratio to the hand-written codec is reported too.
 * Writes bench/results.json. Run: pnpm bench:iso8583   (BENCH_MS per measurement, BENCH_ROUNDS)
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { getSpec } from '../src/index.js'
import { ascii0100ForNpm, visa0100 } from '../test/fixtures.js'
import { handDecode, handEncode } from './handwritten-visa.js'

const require = createRequire(import.meta.url)
const NpmIso = require('iso_8583') as new (data?: Record<number, string>) => {
  getBufferMessage(): Buffer | { error: string }
  getIsoJSON(b: Buffer): Record<string, string> & { error?: string }
}

/**
 * Run fn repeatedly for about `ms` milliseconds after a warm-up. Returns operations per wall-clock
 * second and per CPU second of this process (user + system): on a shared, overloaded machine the
 * wall-clock figure includes time the process was not scheduled, the CPU figure does not.
 */
function measure(fn: () => unknown, ms: number): { wall: number; cpu: number } {
  for (let i = 0; i < 2000; i++) fn()
  let ops = 0
  const start = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  const limit = BigInt(ms) * 1_000_000n
  let elapsed = 0n
  while (elapsed < limit) {
    for (let i = 0; i < 1000; i++) fn()
    ops += 1000
    elapsed = process.hrtime.bigint() - start
  }
  const cpu = process.cpuUsage(cpu0)
  return { wall: Math.round(ops / (Number(elapsed) / 1e9)), cpu: Math.round(ops / ((cpu.user + cpu.system) / 1e6)) }
}

const ms = Number(process.env.BENCH_MS ?? 300)
const rounds = Number(process.env.BENCH_ROUNDS ?? 15)
const spec = getSpec('visa-base1')
const msg = visa0100()
const packed = spec.encode(msg)
const check = spec.decode(packed)
if (!spec.encode(check).equals(packed)) throw new Error('round trip failed')
if (!handEncode(msg).equals(packed) || !spec.encode(handDecode(packed)).equals(packed)) throw new Error('hand-written reference disagrees')

const npmData = ascii0100ForNpm()
const npmPacked = new NpmIso(npmData).getBufferMessage()
if (!Buffer.isBuffer(npmPacked)) throw new Error('iso_8583 could not pack the reference message')
const npmCheck = new NpmIso().getIsoJSON(npmPacked)
if (npmCheck.error || npmCheck['55'] !== npmData[55]) throw new Error('iso_8583 could not unpack the reference message')

let sink = 0
const cases: Record<string, [() => unknown, number]> = {
  unpack: [() => (sink += spec.decode(packed).mti.length), ms],
  pack: [() => (sink += spec.encode(msg).length), ms],
  handUnpack: [() => (sink += handDecode(packed).mti.length), ms],
  handPack: [() => (sink += handEncode(msg).length), ms],
  npmUnpack: [() => (sink += Object.keys(new NpmIso().getIsoJSON(npmPacked)).length), Math.max(200, Math.round(ms / 3))],
  npmPack: [
    () => {
      const b = new NpmIso(npmData).getBufferMessage()
      sink += Buffer.isBuffer(b) ? b.length : 0
    },
    Math.max(200, Math.round(ms / 3)),
  ],
}
const caseArg = process.argv.indexOf('--case')
if (caseArg > 0) {
  // Child: measure one case and print its rounds.
  const [fn, t] = cases[process.argv[caseArg + 1]!]!
  const wall: number[] = []
  const cpu: number[] = []
  for (let r = 0; r < rounds; r++) {
    const v = measure(fn, t)
    wall.push(v.wall)
    cpu.push(v.cpu)
  }
  console.log(JSON.stringify({ wall, cpu, sink: sink > 0 }))
  process.exit(0)
}

const best: Record<string, number> = {}
const all: Record<string, number[]> = {}
const cpuRates: Record<string, number[]> = {}
for (const name of Object.keys(cases)) {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', name], { encoding: 'utf8' })
  const { wall, cpu } = JSON.parse(out.trim().split('\n').pop()!) as { wall: number[]; cpu: number[] }
  all[name] = wall
  cpuRates[name] = cpu
  best[name] = Math.max(...wall)
}
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!
// Per CPU second: the median over rounds (stable under load); wall clock: the best round.
const bestCpu: Record<string, number> = Object.fromEntries(Object.entries(cpuRates).map(([k, v]) => [k, median(v)]))
const unpack = best.unpack!
const pack = best.pack!
const npmUnpack = best.npmUnpack!
const npmPack = best.npmPack!
const load = os.loadavg()[0]!
const target = 500000

const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  message: {
    spec: 'visa-base1',
    mti: msg.mti,
    fields: Object.keys(msg.fields).length,
    bytes: packed.length,
    de55Bytes: (msg.fields['55'] as Buffer).length,
  },
  loadAverage1m: +load.toFixed(2),
  method: `one child process per case, ${rounds} rounds of ${ms} ms (npm package: ${Math.max(200, Math.round(ms / 3))} ms); ops/s = best round by wall clock; perCpuSecond = median ops per CPU second of this process`,
  cardplane: { unpacksPerSecond: unpack, packsPerSecond: pack, perCpuSecond: { unpacks: bestCpu.unpack, packs: bestCpu.pack } },
  handWritten: {
    note: 'bench/handwritten-visa.ts: fixed-layout codec for this one message, same run',
    unpacksPerSecond: best.handUnpack,
    packsPerSecond: best.handPack,
    perCpuSecond: { unpacks: bestCpu.handUnpack, packs: bestCpu.handPack },
    cardplaneShare: {
      note: 'cardplane / hand-written, per CPU second (medians)',
      unpack: +(bestCpu.unpack! / bestCpu.handUnpack!).toFixed(2),
      pack: +(bestCpu.pack! / bestCpu.handPack!).toFixed(2),
    },
  },
  roundsWallClock: all,
  iso_8583: {
    version: (require('iso_8583/package.json') as { version: string }).version,
    note: 'same fields as ASCII (the package has no BCD/EBCDIC/binary-length support); DE 55 as hex text',
    bytes: npmPacked.length - 2,
    unpacksPerSecond: npmUnpack,
    packsPerSecond: npmPack,
    perCpuSecond: { unpacks: bestCpu.npmUnpack, packs: bestCpu.npmPack },
  },
  ratio: {
    note: 'cardplane (visa-base1) / iso_8583 (ASCII equivalent), per CPU second',
    unpack: +(bestCpu.unpack! / bestCpu.npmUnpack!).toFixed(1),
    pack: +(bestCpu.pack! / bestCpu.npmPack!).toFixed(1),
    wallClockUnpack: +(unpack / npmUnpack).toFixed(1),
    wallClockPack: +(pack / npmPack).toFixed(1),
  },
  target: {
    unpacksPerSecond: target,
    packsPerSecond: target,
    metWallClock: unpack >= target && pack >= target,
    metPerCpuSecond: bestCpu.unpack! >= target && bestCpu.pack! >= target,
  },
}
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n')
console.log(JSON.stringify(results, null, 2))
if (sink === 0) console.log('')
