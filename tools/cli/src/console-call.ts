/**
 * Operator commands call the platform as the `console` workload (group 0): the JWT-SVID comes from the
 * dev Workload API socket of `console` (`<state dir>/spiffe/console.sock`, state dir
 * CARDPLANE_DEV_STATE_DIR or `.dev/`), or from SPIFFE_ENDPOINT_SOCKET. A callee's URL is its
 * CARDPLANE_SERVICE_URLS entry or its dev port from the zone map. The zone map decides what console may
 * call: the main-cluster services, and proxy-internal for the few operator actions in the CDE.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { loadZoneMap, REPO_ROOT, serviceByName } from '@cardplane/zones'

/** One call as `console`: the status and the parsed JSON answer (undefined when empty). */
export async function consoleCall<T>(callee: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const zoneMap = loadZoneMap()
  const socket =
    process.env.SPIFFE_ENDPOINT_SOCKET ?? `unix://${join(process.env.CARDPLANE_DEV_STATE_DIR ?? join(REPO_ROOT, '.dev'), 'spiffe', 'console.sock')}`
  if (socket.startsWith('unix://') && !existsSync(socket.slice('unix://'.length))) {
    throw new Error(`no Workload API socket at ${socket.slice('unix://'.length)}: is \`pnpm start\` running?`)
  }
  const urls = process.env.CARDPLANE_SERVICE_URLS ? (JSON.parse(process.env.CARDPLANE_SERVICE_URLS) as Record<string, string>) : {}
  const service = serviceByName(zoneMap, callee)
  const base = urls[callee] ?? `http://127.0.0.1:${service.devPort}`
  const workload = new WorkloadApiClient({ socketPath: socket })
  try {
    const svid = await workload.fetchJwtSvid(service.spiffeId)
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${svid.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T }
  } finally {
    workload.close()
  }
}

/** Print a refusal as `<callee> answered <status>: <code> (<message>)`; the exit code 1. */
export function failed(callee: string, status: number, body: unknown): number {
  const e = (body as { error?: { code?: string; message?: string } } | undefined)?.error
  console.error(`${callee} answered ${status}: ${e?.code ?? 'error'}${e?.message ? ` (${e.message})` : ''}`)
  return 1
}
