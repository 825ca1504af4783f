import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { startDevSpiffe, type DevSpiffe } from '@cardplane/tool-dev-spiffe'
import { edgeAllowed, serviceByName, type ZoneMap } from '@cardplane/zones'
import type { FastifyInstance } from 'fastify'

/** Real identities for tests: a dev Workload API with one socket per service, and clients on them. */
export interface TestIdentities {
  zoneMap: ZoneMap
  spiffe: DevSpiffe
  /** Workload API client connected to `name`'s own socket (JWT-SVIDs as `name`, and the trust bundle). */
  client(name: string): WorkloadApiClient
  /** A JWT-SVID of `caller` for `callee`, as an `authorization` header value. */
  bearer(caller: string, callee: string): Promise<string>
  /** Close every client, stop the server, remove the socket directory. */
  close(): Promise<void>
}

/**
 * Start dev-spiffe in-process for the zone map's services (or `names`) in a fresh temporary directory.
 * Tests get identities exactly as services do in `pnpm start`: the socket decides who you are.
 */
export async function startTestIdentities(zoneMap: ZoneMap, names?: string[]): Promise<TestIdentities> {
  const dir = await mkdtemp(join(tmpdir(), 'cp-id-'))
  const services = zoneMap.services
    .filter((s) => names === undefined || names.includes(s.name))
    .map((s) => ({ name: s.name, spiffeId: s.spiffeId }))
  const spiffe = await startDevSpiffe({ dir, trustDomain: zoneMap.trustDomain, services })
  const clients = new Map<string, WorkloadApiClient>()
  const client = (name: string): WorkloadApiClient => {
    let c = clients.get(name)
    if (!c) {
      c = new WorkloadApiClient({ socketPath: spiffe.endpoint(name) })
      clients.set(name, c)
    }
    return c
  }
  return {
    zoneMap,
    spiffe,
    client,
    async bearer(caller, callee) {
      const svid = await client(caller).fetchJwtSvid(serviceByName(zoneMap, callee).spiffeId)
      return `Bearer ${svid.token}`
    },
    async close() {
      for (const c of clients.values()) c.close()
      await spiffe.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** The assertions probeConformance uses (tap's `t` fits). */
export interface ProbeAssertions {
  equal(found: unknown, wanted: unknown, ...message: [] | [string]): unknown
  same(found: unknown, wanted: unknown, ...message: [] | [string]): unknown
  match(found: unknown, wanted: unknown, ...message: [] | [string]): unknown
}

/** A test suite probeConformance adds its subtests to (tap's `t` fits). */
export interface ProbeSuite {
  test(name: string, fn: (t: ProbeAssertions) => Promise<void>): unknown
}

/**
 * The conformance every service app shows, as subtests of `t`: `GET /v1/probe` answers exactly the callers
 * the zone map allows (200 with the caller's identity) and refuses every other service (403), each with a
 * real JWT-SVID; a token for another audience and no token get 401; `/healthz`, `/readyz` (as `ready`
 * says; the SPIFFE bundle check is always `ok`) and `/metrics` are public.
 */
export function probeConformance(
  t: ProbeSuite,
  opts: {
    app: FastifyInstance
    service: string
    ids: TestIdentities
    /** Expected readiness: status (default 200), checks that must be `ok`, checks that must not be. */
    ready?: { statusCode?: number; ok?: string[]; failing?: string[] }
  },
): void {
  const { app, service, ids } = opts
  const zoneMap = ids.zoneMap
  const self = serviceByName(zoneMap, service)
  t.test('GET /v1/probe answers exactly the zone map callers, with real JWT-SVIDs', async (t) => {
    for (const caller of zoneMap.services) {
      const svid = await ids.client(caller.name).fetchJwtSvid(self.spiffeId)
      const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${svid.token}` } })
      if (edgeAllowed(zoneMap, caller.name, service)) {
        t.equal(res.statusCode, 200, `${caller.name} -> ${service} allowed`)
        t.same(res.json(), { service, caller: { spiffeId: caller.spiffeId, service: caller.name, group: caller.group } })
      } else {
        t.equal(res.statusCode, 403, `${caller.name} -> ${service} refused`)
      }
    }
  })
  t.test('a token for another audience is refused with 401', async (t) => {
    const other = zoneMap.services.find((s) => s.name !== service)!
    const svid = await ids.client(other.name).fetchJwtSvid(other.spiffeId)
    const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${svid.token}` } })
    t.equal(res.statusCode, 401)
    t.equal((await app.inject({ method: 'GET', url: '/v1/probe' })).statusCode, 401, 'no token')
  })
  t.test('health, readiness and metrics are public', async (t) => {
    t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, opts.ready?.statusCode ?? 200, 'readiness status')
    const checks = (ready.json() as { checks: Record<string, string> }).checks
    for (const name of ['spiffe-bundle', ...(opts.ready?.ok ?? [])]) t.equal(checks[name], 'ok', `readiness check ${name} ok`)
    for (const name of opts.ready?.failing ?? []) t.equal(checks[name] !== undefined && checks[name] !== 'ok', true, `readiness check ${name} failing`)
    t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /http_requests_total/)
  })
}
