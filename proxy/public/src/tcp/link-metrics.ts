import { Gauge, type Registry } from 'prom-client'
import type { LinkListener } from './link-listener.js'

/**
 * Scheme link figures in the app's `/metrics`, read from the listeners at scrape time: open connections,
 * frames in/out, keep-alive polls, forwarding failures and closed connections by reason.
 */
export function registerLinkMetrics(registry: Registry, listeners: readonly LinkListener[]): void {
  const make = (name: string, help: string, labels: string[], read: (l: LinkListener) => [Record<string, string>, number][]): void => {
    const g: Gauge = new Gauge({
      name,
      help,
      labelNames: ['link', ...labels],
      registers: [registry],
      collect() {
        g.reset()
        for (const l of listeners) for (const [lab, v] of read(l)) g.set({ link: l.config.name, ...lab }, v)
      },
    })
  }
  make('scheme_link_connections_open', 'Open TCP connections per scheme link.', [], (l) => [[{}, l.openConnections]])
  make('scheme_link_frames_total', 'Frames per scheme link and direction.', ['direction'], (l) => [
    [{ direction: 'in' }, l.stats.framesIn],
    [{ direction: 'out' }, l.stats.framesOut],
  ])
  make('scheme_link_keepalives_total', 'Zero-length keep-alive polls received.', [], (l) => [[{}, l.stats.keepalives]])
  make('scheme_link_forward_failures_total', 'Frames the processor could not be reached for.', [], (l) => [[{}, l.stats.forwardFailures]])
  make('scheme_link_connections_closed_total', 'Closed connections by reason.', ['reason'], (l) =>
    Object.entries(l.stats.closed).map(([reason, n]) => [{ reason }, n ?? 0]),
  )
}
