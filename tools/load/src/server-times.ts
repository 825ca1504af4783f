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

/** Read the totals of every service (a service that does not answer is left out). */
export async function readRequestTotals(urls: Readonly<Record<string, string>>): Promise<RequestTotals> {
  const totals: RequestTotals = new Map()
  await Promise.all(
    Object.entries(urls).map(async ([service, url]) => {
      try {
        const r = await fetch(`${url}/metrics`)
        if (r.ok) parseRequestTotals(service, await r.text(), totals)
      } catch {
        // not running (e.g. stopped by a test): nothing to add
      }
    }),
  )
  return totals
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
