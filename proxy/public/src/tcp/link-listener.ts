import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { FrameSplitter, frame as vmlhFrame } from '@cardplane/iso8583'
import type { FrameForwarder } from './frame-forwarder.js'
import { LOOPBACK, type LinkListenerConfig } from './link-config.js'

/** Why a connection was closed, for logs and metrics. */
export type CloseReason =
  | 'peer_not_allowed'
  | 'frame_too_large'
  | 'read_timeout'
  | 'idle_timeout'
  | 'processor_close'
  | 'socket_error'
  | 'peer_closed'
  | 'shutdown'

/** Events without any frame content (frames may carry a PAN). */
export interface LinkEvent {
  kind: 'connection_open' | 'connection_closed' | 'frame_forwarded' | 'forward_failed' | 'keepalive'
  link: string
  peer?: string
  reason?: CloseReason
  code?: string
  latencyMs?: number
}

/** Counters of one link, for /metrics and tests. */
export interface LinkStats {
  connections: number
  framesIn: number
  framesOut: number
  keepalives: number
  forwardFailures: number
  closed: Partial<Record<CloseReason, number>>
}

interface Conn {
  socket: net.Socket
  peer: string
  splitter: FrameSplitter
  inFlight: number
  paused: boolean
  readTimer: NodeJS.Timeout | undefined
  closed: boolean
  /** Answers written in this tick are held back and leave in one write (see writeAnswer). */
  corked: boolean
}

/**
 * The TCP listener of one scheme link: persistent connections, VMLH framing, many messages in flight per
 * connection, each answer written back on the connection its request came from (Visa matches answers by
 * their fields, not by order). Enforces the peer allowlist, maximum frame size, read (slow-frame) and idle
 * timeouts, the connection limit and a per-connection in-flight limit. Zero-length frames are keep-alive
 * polls and are ignored. Nothing here parses or logs frame content.
 */
export class LinkListener {
  readonly config: LinkListenerConfig
  readonly stats: LinkStats = { connections: 0, framesIn: 0, framesOut: 0, keepalives: 0, forwardFailures: 0, closed: {} }
  private readonly forwarder: FrameForwarder
  private readonly onEvent: (e: LinkEvent) => void
  private readonly server: net.Server
  private readonly conns = new Set<Conn>()
  private readonly allowed: ReadonlySet<string>

  constructor(config: LinkListenerConfig, forwarder: FrameForwarder, onEvent: (e: LinkEvent) => void = () => undefined) {
    this.config = config
    this.forwarder = forwarder
    this.onEvent = onEvent
    this.allowed = new Set(config.allowedPeers.length > 0 ? config.allowedPeers : LOOPBACK)
    const handler = (socket: net.Socket): void => this.accept(socket)
    this.server = config.tls
      ? tls.createServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, handler)
      : net.createServer(handler)
    this.server.maxConnections = config.maxConnections
  }

  /** Start listening; resolves with the bound port. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.config.port, this.config.host ?? '127.0.0.1', () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    return (this.server.address() as net.AddressInfo).port
  }

  /** Stop accepting, close every connection. */
  async close(): Promise<void> {
    for (const c of this.conns) this.drop(c, 'shutdown')
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(socket: net.Socket): void {
    const peer = socket.remoteAddress ?? 'unknown'
    const link = this.config.name
    if (!this.allowed.has(peer)) {
      this.count('peer_not_allowed')
      this.onEvent({ kind: 'connection_closed', link, peer, reason: 'peer_not_allowed' })
      socket.destroy()
      return
    }
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 30_000)
    const conn: Conn = {
      socket,
      peer,
      splitter: new FrameSplitter({ kind: 'vmlh', maxFrameSize: this.config.maxFrameSize }),
      inFlight: 0,
      corked: false,
      paused: false,
      readTimer: undefined,
      closed: false,
    }
    this.conns.add(conn)
    this.stats.connections++
    this.onEvent({ kind: 'connection_open', link, peer })
    // Any traffic (including keep-alive polls) resets the idle timer.
    socket.setTimeout(this.config.idleTimeoutMs, () => this.drop(conn, 'idle_timeout'))
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk))
    socket.on('error', () => this.drop(conn, 'socket_error'))
    socket.on('end', () => this.drop(conn, 'peer_closed'))
    socket.on('close', () => this.drop(conn, 'peer_closed'))
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn.closed) return
    let events
    try {
      events = conn.splitter.push(chunk)
    } catch {
      // An announced length over the maximum: the stream can no longer be trusted to be in sync.
      this.drop(conn, 'frame_too_large')
      return
    }
    for (const ev of events) {
      if (ev.type === 'keepalive') {
        this.stats.keepalives++
        continue
      }
      this.dispatch(conn, ev.payload)
    }
    this.armReadTimer(conn)
  }

  /**
   * A frame has started but not finished: it must complete within the read timeout (slow-loris guard).
   * Not while we paused reading ourselves (in-flight limit): the rest of the frame then waits in the kernel
   * buffer through no fault of the peer.
   */
  private armReadTimer(conn: Conn): void {
    if (conn.splitter.pending > 0 && !conn.paused) {
      conn.readTimer ??= setTimeout(() => this.drop(conn, 'read_timeout'), this.config.readTimeoutMs)
    } else if (conn.readTimer) {
      clearTimeout(conn.readTimer)
      conn.readTimer = undefined
    }
  }

  private dispatch(conn: Conn, payload: Buffer): void {
    const link = this.config.name
    this.stats.framesIn++
    conn.inFlight++
    if (conn.inFlight >= this.config.maxInFlight && !conn.paused) {
      conn.paused = true
      conn.socket.pause()
    }
    const started = Date.now()
    // The splitter may hand out views of a larger chunk; the body is sent as is.
    this.forwarder.forward(link, payload, { receivedAt: started }).then(
      (result) => {
        this.settle(conn)
        if (conn.closed) return
        switch (result.action) {
          case 'answer':
            this.writeAnswer(conn, vmlhFrame('vmlh', result.frame))
            this.stats.framesOut++
            this.onEvent({ kind: 'frame_forwarded', link, peer: conn.peer, latencyMs: Date.now() - started })
            return
          case 'none':
            return
          case 'close':
            this.drop(conn, 'processor_close')
            return
        }
      },
      (err: unknown) => {
        // The processor is unreachable: no answer; the scheme times out and stands in.
        this.settle(conn)
        this.stats.forwardFailures++
        this.onEvent({ kind: 'forward_failed', link, peer: conn.peer, code: (err as { code?: string }).code ?? (err as Error).name })
      },
    )
  }

  /**
   * Answers of a group forwarded together come back together: the ones written in the same tick share one
   * write to the scheme (cork until the tick's promise callbacks have run) instead of a syscall each.
   */
  private writeAnswer(conn: Conn, bytes: Buffer): void {
    if (!conn.corked) {
      conn.corked = true
      conn.socket.cork()
      process.nextTick(() => {
        conn.corked = false
        conn.socket.uncork()
      })
    }
    conn.socket.write(bytes)
  }

  private settle(conn: Conn): void {
    conn.inFlight--
    if (conn.paused && conn.inFlight < this.config.maxInFlight && !conn.closed) {
      conn.paused = false
      conn.socket.resume()
      this.armReadTimer(conn)
    }
  }

  private count(reason: CloseReason): void {
    this.stats.closed[reason] = (this.stats.closed[reason] ?? 0) + 1
  }

  private drop(conn: Conn, reason: CloseReason): void {
    if (conn.closed) return
    conn.closed = true
    if (conn.readTimer) clearTimeout(conn.readTimer)
    this.conns.delete(conn)
    this.count(reason)
    this.onEvent({ kind: 'connection_closed', link: this.config.name, peer: conn.peer, reason })
    conn.socket.destroy()
  }

  /** Open connections. */
  get openConnections(): number {
    return this.conns.size
  }
}
