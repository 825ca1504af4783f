/**
 * Where an authorisation's time goes, service by service: every service-kit app keeps
 * `http_request_duration_seconds` (sum and count per method, route and status). Read before and after a
 * run, the difference gives each route's mean answering time over that run. The times nest: the
 * processor's frame includes its card-vault call and its decision, proxy-internal's forward includes the
 * authorizations service, whose decision includes the ledger's hold. Down the chain, the differences are
 * what each hop added, its own work and its queue, which is where a fixed-rate run's latency builds up.
 */

/** Running totals by `service METHOD route`. */
export type RequestTotals = Map<string, { sum: number; count: number }>

const LINE = /^http_request_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.e+-]+)$/gm

function label(labels: string, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1]
}

/** Parse one service's Prometheus text into totals (all status codes of a route together). */
export function parseRequestTotals(service: string, text: string, into: RequestTotals = new Map()): RequestTotals {
  for (const m of text.matchAll(LINE)) {
    const method = label(m[2]!, 'method')
    const route = label(m[2]!, 'route')
    if (!method || !route || route === '/metrics' || route === '/healthz' || route === '/readyz') continue
    const key = `${service} ${method} ${route}`
    const e = into.get(key) ?? { sum: 0, count: 0 }
    if (m[1] === 'sum') e.sum += Number(m[3])
    else e.count += Number(m[3])
    into.set(key, e)
  }
  return into
}

/** One service's event-loop delay since its previous scrape (prom-client resets the monitor on each read). */
export interface EventLoopLag {
  meanMs: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

const LAG = /^nodejs_eventloop_lag_(mean|p50|p99|max)_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/gm

/** Parse `nodejs_eventloop_lag_{mean,p50,p99,max}_seconds` (collectDefaultMetrics); undefined if absent. */
export function parseEventLoopLag(text: string): EventLoopLag | undefined {
  const v: Record<string, number> = {}
  for (const m of text.matchAll(LAG)) v[m[1]!] = Math.round(Number(m[2]) * 100_000) / 100
  if (v.mean === undefined || v.p50 === undefined || v.p99 === undefined || v.max === undefined) return undefined
  return { meanMs: v.mean, p50Ms: v.p50, p99Ms: v.p99, maxMs: v.max }
}

/** What one scrape of every service gives: request totals, and each one's event-loop delay since the last scrape. */
export interface ServiceMetrics {
  totals: RequestTotals
  eventLoopLag: Record<string, EventLoopLag>
}

/**
 * Scrape every service (a service that does not answer is left out). The event-loop delay read after a run
 * covers exactly that run when the scrape before it reset the monitor: a busy process delays every reply it
 * handles by its lag, which is how a hop's queue shows up in a fixed-rate run.
 */
export async function readServiceMetrics(urls: Readonly<Record<string, string>>): Promise<ServiceMetrics> {
  const totals: RequestTotals = new Map()
  const eventLoopLag: Record<string, EventLoopLag> = {}
  await Promise.all(
    Object.entries(urls).map(async ([service, url]) => {
      try {
        const r = await fetch(`${url}/metrics`)
        if (!r.ok) return
        const text = await r.text()
        parseRequestTotals(service, text, totals)
        const lag = parseEventLoopLag(text)
        if (lag) eventLoopLag[service] = lag
      } catch {
        // not running (e.g. stopped by a test): nothing to add
      }
    }),
  )
  return { totals, eventLoopLag: Object.fromEntries(Object.entries(eventLoopLag).sort(([a], [b]) => a.localeCompare(b))) }
}

/** Mean answering time per route over a run; routes called fewer than `minCount` times are left out. */
export function meanServerTimes(before: RequestTotals, after: RequestTotals, minCount: number): Record<string, { count: number; meanMs: number }> {
  const out: Record<string, { count: number; meanMs: number }> = {}
  for (const [key, a] of [...after.entries()].sort(([x], [y]) => x.localeCompare(y))) {
    const b = before.get(key) ?? { sum: 0, count: 0 }
    const count = a.count - b.count
    if (count < Math.max(1, minCount)) continue
    out[key] = { count, meanMs: Math.round(((a.sum - b.sum) / count) * 100_000) / 100 }
  }
  return out
}
