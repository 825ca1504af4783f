// How fast is this machine, right now? Two readings taken before a benchmark starts its platform, so that
// figures from different sessions (or different hours: this kind of machine has been seen 2-3x slower per
// CPU second from one session to the next) can be read against the machine they ran on:
//
// - cpu: a fixed single-threaded workload of plain JavaScript and node:crypto (JSON round trip of a fixed
//   authorisation-shaped object and a SHA-256 of it), in operations per CPU second of this process. It uses
//   no project code, so a change to the project never moves it; only the machine (and Node) does.
// - loopback: TCP round trips of 64 bytes between this process and a child Node process on 127.0.0.1:
//   back to back (both processes awake), and each after 20 ms of quiet (the peer asleep, so the round trip
//   includes two wake-ups). The second is what a lightly loaded hop costs; the authorisation path has ~25.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { percentile } from './load.js'

/** The readings; see the module comment. */
export interface Calibration {
  cpu: { workload: string; opsPerCpuSecond: number; opsPerCpuSecondRange: [number, number]; opsPerWallSecond: number }
  loopback: { backToBackUs: { p50: number; p90: number }; afterIdleUs: { p50: number; p90: number }; idleMs: number }
}

const SAMPLE = {
  authorizationId: 'auth_01jf3v7k9q2w8e5r4t6y1u0i9o',
  cardId: 'card_01jf3v7k9q2w8e5r4t6y1u0i9o',
  messageClass: 'authorization',
  amounts: {
    transaction: { minor: 12_345, currency: 'EUR' },
    cardholderBilling: { minor: 12_345, currency: 'EUR', rate: '1.000000' },
  },
  merchant: { mcc: '5411', id: 'MERCHANT0000001', name: 'CORNER SHOP', city: 'BERLIN', country: 'DE' },
  pos: { entryMode: 'ecommerce', cardPresent: false, cardholderPresent: false, ecommerce: { eci: '05', threeDs: true } },
  network: { scheme: 'visa', transactionId: '123456789012345', stan: '000123', rrn: '533912000123', transmissionTime: '2026-12-05T11:00:00Z' },
  verification: { cvv2: 'match', expiry: 'valid', pin: 'not_present', arqc: 'not_present' },
}

/** One round of the CPU workload: `ops` operations; operations per CPU second and per wall-clock second. */
function cpuRound(ops: number): { cpu: number; wall: number } {
  let sink = 0
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  for (let i = 0; i < ops; i++) {
    const text = JSON.stringify({ ...SAMPLE, sequence: i })
    const back = JSON.parse(text) as { sequence: number }
    sink += back.sequence + createHash('sha256').update(text).digest()[0]!
  }
  const c = process.cpuUsage(c0)
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9
  if (sink < 0) throw new Error('unreachable')
  return { cpu: ops / ((c.user + c.system) / 1e6), wall: ops / wallS }
}

/**
 * The CPU reading: `rounds` rounds of `ops` operations after one warm-up round; the median round, and the
 * slowest and fastest (the spread says how steady the machine was while it was read).
 */
export function cpuScore(opts: { ops?: number; rounds?: number } = {}): Calibration['cpu'] {
  const ops = opts.ops ?? 8000
  cpuRound(ops)
  const rounds = Array.from({ length: opts.rounds ?? 5 }, () => cpuRound(ops))
  const cpu = rounds.map((r) => r.cpu).sort((a, b) => a - b)
  const wall = rounds.map((r) => r.wall).sort((a, b) => a - b)
  return {
    workload: 'JSON.stringify + JSON.parse + SHA-256 of a ~700-byte authorisation-shaped object, one thread',
    opsPerCpuSecond: Math.round(percentile(cpu, 50)),
    opsPerCpuSecondRange: [Math.round(cpu[0]!), Math.round(cpu[cpu.length - 1]!)],
    opsPerWallSecond: Math.round(percentile(wall, 50)),
  }
}

/** The child: a TCP echo server on an ephemeral loopback port; prints the port, exits when its stdin closes. */
const ECHO_SERVER = `
const net = require('node:net')
const server = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); s.on('error', () => {}) })
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
`

function roundTrip(socket: Socket, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0
    const t0 = process.hrtime.bigint()
    const onData = (d: Buffer): void => {
      got += d.length
      if (got < payload.length) return
      socket.off('data', onData)
      socket.off('error', reject)
      resolve(Number(process.hrtime.bigint() - t0) / 1000)
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.write(payload)
  })
}

/** The loopback reading: `backToBack` round trips in a row, then `afterIdle` each after `idleMs` of quiet. */
export async function loopbackRtt(opts: { backToBack?: number; afterIdle?: number; idleMs?: number } = {}): Promise<Calibration['loopback']> {
  const idleMs = opts.idleMs ?? 20
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = ''
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString()
        if (text.includes('\n')) resolve(Number(text.trim()))
      })
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`echo server exited (${code}) before listening`)))
    })
    const socket = connect({ port, host: '127.0.0.1', noDelay: true })
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    try {
      const payload = Buffer.alloc(64, 7)
      for (let i = 0; i < 200; i++) await roundTrip(socket, payload) // warm both ends
      const busy: number[] = []
      for (let i = 0; i < (opts.backToBack ?? 2000); i++) busy.push(await roundTrip(socket, payload))
      const idle: number[] = []
      for (let i = 0; i < (opts.afterIdle ?? 50); i++) {
        await sleep(idleMs)
        idle.push(await roundTrip(socket, payload))
      }
      busy.sort((a, b) => a - b)
      idle.sort((a, b) => a - b)
      const round = (v: number): number => Math.round(v)
      return {
        backToBackUs: { p50: round(percentile(busy, 50)), p90: round(percentile(busy, 90)) },
        afterIdleUs: { p50: round(percentile(idle, 50)), p90: round(percentile(idle, 90)) },
        idleMs,
      }
    } finally {
      socket.destroy()
    }
  } finally {
    child.stdin.end()
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
  }
}

/** Both readings (about 3 s). */
export async function calibrate(): Promise<Calibration> {
  const cpu = cpuScore()
  const loopback = await loopbackRtt()
  return { cpu, loopback }
}
