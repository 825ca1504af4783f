import net from 'node:net'
import { FrameSplitter, frame as vmlhFrame, newVisaHeader } from '@cardplane/iso8583'
import { VisaConnector, type VisaMessage } from '@cardplane/visa'

/** One answer from the issuer side, with the round-trip time. */
export interface LinkAnswer {
  message: VisaMessage
  latencyMs: number
  /** The raw frame (header + message), e.g. for reject headers. */
  raw: Buffer
  rejectCode?: string
}

/** Options of a simulated Visa link connection. */
export interface VisaLinkClientOptions {
  host?: string
  port: number
  /** Visa's station id (H6 of our requests) and the issuer's (H5). */
  visaStationId?: string
  issuerStationId?: string
  /** How long to wait for an answer (ms). */
  timeoutMs?: number
}

interface Pending {
  resolve: (a: LinkAnswer) => void
  reject: (e: Error) => void
  sentAt: number
  timer: NodeJS.Timeout
}

/**
 * The acquirer/Visa side of a BASE I link, as the simulator and the tests use it: one persistent TCP
 * connection, VMLH framing, many requests in flight, answers matched by STAN (DE 11). Holds clear card
 * data only as the simulated card would.
 */
export class VisaLinkClient {
  readonly connector = new VisaConnector()
  private readonly socket: net.Socket
  private readonly splitter = new FrameSplitter({ kind: 'vmlh', maxFrameSize: 65535 })
  private readonly pending = new Map<string, Pending>()
  private readonly opts: Required<Omit<VisaLinkClientOptions, 'host'>> & { host: string }
  private stan = Math.floor(Math.random() * 900_000)
  /** Answers that matched no pending request (e.g. rejects without a STAN). */
  readonly unmatched: LinkAnswer[] = []
  readonly closed: Promise<void>

  private constructor(socket: net.Socket, opts: VisaLinkClientOptions) {
    this.socket = socket
    this.opts = {
      host: opts.host ?? '127.0.0.1',
      port: opts.port,
      visaStationId: opts.visaStationId ?? '000001',
      issuerStationId: opts.issuerStationId ?? '400000',
      timeoutMs: opts.timeoutMs ?? 5000,
    }
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', () => undefined)
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        for (const [, p] of this.pending) {
          clearTimeout(p.timer)
          p.reject(Object.assign(new Error('link closed'), { code: 'link_closed' }))
        }
        this.pending.clear()
        resolve()
      })
    })
  }

  /** Connect to a link. */
  static async connect(opts: VisaLinkClientOptions): Promise<VisaLinkClient> {
    const socket = net.connect(opts.port, opts.host ?? '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new VisaLinkClient(socket, opts)
  }

  /** Next STAN (6 digits). */
  nextStan(): string {
    this.stan = (this.stan + 1) % 1_000_000
    return String(this.stan).padStart(6, '0')
  }

  /** DE 7 for now (MMDDhhmmss, UTC). */
  static transmissionTime(d = new Date()): string {
    const p = (n: number) => String(n).padStart(2, '0')
    return `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
  }

  /** Encode a request with the BASE I header. */
  encode(message: VisaMessage): Buffer {
    return this.connector.encodeRequest(newVisaHeader(this.opts.issuerStationId, this.opts.visaStationId), message)
  }

  /** Send a request and wait for the answer with the same STAN. */
  async send(message: VisaMessage): Promise<LinkAnswer> {
    return this.sendRaw(this.encode(message), String(message.fields['11']))
  }

  /** Send pre-encoded bytes (header + message) and wait for the answer carrying `stan`. */
  sendRaw(payload: Buffer, stan: string): Promise<LinkAnswer> {
    return new Promise<LinkAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(stan)
        reject(Object.assign(new Error(`no answer within ${this.opts.timeoutMs} ms`), { code: 'link_timeout' }))
      }, this.opts.timeoutMs)
      this.pending.set(stan, { resolve, reject, sentAt: performance.now(), timer })
      this.socket.write(vmlhFrame('vmlh', payload))
    })
  }

  /** Write raw bytes on the socket (bad-frame tests). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** 0800 network management (071 sign-on, 072 sign-off, 301 echo). */
  async networkManagement(code: '071' | '072' | '301'): Promise<LinkAnswer> {
    return this.send({ mti: '0800', fields: { '7': VisaLinkClient.transmissionTime(), '11': this.nextStan(), '70': code } })
  }

  /** Wait for an unmatched answer (rejects). */
  async nextUnmatched(timeoutMs = 2000): Promise<LinkAnswer> {
    const until = Date.now() + timeoutMs
    while (this.unmatched.length === 0) {
      if (Date.now() > until) throw new Error('no unmatched answer')
      await new Promise((r) => setTimeout(r, 5))
    }
    return this.unmatched.shift()!
  }

  private onData(chunk: Buffer): void {
    let events
    try {
      events = this.splitter.push(chunk)
    } catch {
      this.socket.destroy()
      return
    }
    for (const ev of events) {
      if (ev.type !== 'message') continue
      const raw = Buffer.from(ev.payload)
      let answer: LinkAnswer
      try {
        const hl = raw[0]!
        if (hl === 26) {
          // Reject: reject header, then the original header and message.
          const original = this.connector.decodeAny(raw.subarray(26))
          answer = { message: original.message, latencyMs: 0, raw, rejectCode: raw.subarray(24, 26).toString('hex') }
        } else {
          answer = { message: this.connector.decodeAny(raw).message, latencyMs: 0, raw }
        }
      } catch {
        this.unmatched.push({ message: { mti: '0000', fields: {} }, latencyMs: 0, raw, rejectCode: raw[0] === 26 ? raw.subarray(24, 26).toString('hex') : 'undecodable' })
        continue
      }
      const stan = answer.message.fields['11']
      const p = typeof stan === 'string' && !answer.rejectCode ? this.pending.get(stan) : undefined
      if (!p) {
        this.unmatched.push(answer)
        continue
      }
      this.pending.delete(stan as string)
      clearTimeout(p.timer)
      answer.latencyMs = performance.now() - p.sentAt
      p.resolve(answer)
    }
  }

  /** Close the connection. */
  async close(): Promise<void> {
    this.socket.end()
    this.socket.destroy()
    await this.closed
  }
}
