import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { startDevSpiffe, type DevSpiffe } from '@cardplane/tool-dev-spiffe'
import { loadZoneMap, serviceByName, type ZoneMap } from '@cardplane/zones'

/** Real SPIFFE identities for a test: a dev Workload API with one socket per service. */
export interface TestIdentities {
  zoneMap: ZoneMap
  spiffe: DevSpiffe
  /** The Workload API client of a service (its SVIDs and trust bundle). */
  workload(name: string): WorkloadApiClient
  /** A JWT-SVID of `caller` for `callee`, as `authorization` header value. */
  bearer(caller: string, callee: string): Promise<string>
  stop(): Promise<void>
}

/** Start a dev Workload API giving every zone-map service its own identity. */
export async function startIdentities(): Promise<TestIdentities> {
  const zoneMap = loadZoneMap()
  const dir = mkdtempSync(join(tmpdir(), 'cpid-'))
  const spiffe = await startDevSpiffe({
    dir,
    trustDomain: zoneMap.trustDomain,
    services: zoneMap.services.map((s) => ({ name: s.name, spiffeId: s.spiffeId })),
  })
  const clients = new Map<string, WorkloadApiClient>()
  const workload = (name: string): WorkloadApiClient => {
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
    workload,
    async bearer(caller, callee) {
      const svid = await workload(caller).fetchJwtSvid(serviceByName(zoneMap, callee).spiffeId)
      return `Bearer ${svid.token}`
    },
    async stop() {
      for (const c of clients.values()) c.close()
      await spiffe.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
