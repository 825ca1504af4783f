import type { ServiceStatus } from './platform.js'

/** Plain-text table of services: name, group, port, SPIFFE ID, state. */
export function renderTable(services: ServiceStatus[]): string {
  const rows = [['service', 'group', 'port', 'SPIFFE ID', 'state']]
  for (const s of services) {
    rows.push([s.name, `g${s.group}`, String(s.port), s.spiffeId, s.state === 'ready' ? 'ready' : `${s.state}: ${s.reason ?? ''}`])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}
