import type { Logger } from '@cardplane/service-kit'
import type { JwtSvidSource } from '@cardplane/spiffe'
import { serviceByName, type ZoneMap } from '@cardplane/zones'
import { coalescingForwarder, createFrameForwarder, type FrameForwarder } from './frame-forwarder.js'
import type { LinkListenerConfig } from './link-config.js'
import { LinkListener, type LinkEvent } from './link-listener.js'

/** Running scheme links. */
export interface RunningLinks {
  listeners: LinkListener[]
  /** Bound port per link name. */
  ports: Record<string, number>
  close(): Promise<void>
}

function logEvent(logger: Logger | undefined): (e: LinkEvent) => void {
  if (!logger) return () => undefined
  return (e) => {
    switch (e.kind) {
      case 'frame_forwarded':
      case 'keepalive':
        return
      case 'connection_open':
        logger.info(e, 'scheme link connection')
        return
      case 'connection_closed':
        if (e.reason === 'peer_closed' || e.reason === 'shutdown') logger.info(e, 'scheme link connection closed')
        else logger.warn(e, 'scheme link connection dropped')
        return
      case 'forward_failed':
        logger.warn(e, 'frame not forwarded')
        return
    }
  }
}

/** Start one listener per configured link, forwarding to the processor with this workload's JWT-SVIDs. */
export async function startLinks(opts: {
  links: LinkListenerConfig[]
  zoneMap: ZoneMap
  svids: JwtSvidSource
  processorUrl: string
  logger?: Logger
  forwarder?: FrameForwarder
  /** Hold frames of a busy link up to this long and forward them together (0: off); see coalescingForwarder. */
  coalesceMs?: number
  /** Hold longer while the processor is behind (0: off); see coalescingForwarder's `extendMs`. */
  coalesceExtendMs?: number
}): Promise<RunningLinks> {
  const forwarder = coalescingForwarder(
    opts.forwarder ??
      createFrameForwarder({ processorUrl: opts.processorUrl, processorSpiffeId: serviceByName(opts.zoneMap, 'processor').spiffeId, svids: opts.svids }),
    { windowMs: opts.coalesceMs ?? 0, extendMs: opts.coalesceExtendMs ?? 0 },
  )
  const listeners: LinkListener[] = []
  const ports: Record<string, number> = {}
  const onEvent = logEvent(opts.logger)
  for (const link of opts.links) {
    const l = new LinkListener(link, forwarder, onEvent)
    ports[link.name] = await l.listen()
    opts.logger?.info({ link: link.name, port: ports[link.name], tls: link.tls !== undefined }, 'scheme link listening')
    listeners.push(l)
  }
  return {
    listeners,
    ports,
    async close() {
      await Promise.all(listeners.map((l) => l.close()))
      await forwarder.close()
    },
  }
}
