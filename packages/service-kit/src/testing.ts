import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { startDevSpiffe, type DevSpiffe } from '@cardplane/tool-dev-spiffe'
import type { ZoneMap } from '@cardplane/zones'

/** Real identities for tests: a dev Workload API with one socket per service, and clients on them. */
export interface TestIdentities {
  spiffe: DevSpiffe
  /** Workload API client connected to `name`'s own socket (JWT-SVIDs as `name`, and the trust bundle). */
  client(name: string): WorkloadApiClient
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
  return {
    spiffe,
    client(name) {
      let c = clients.get(name)
      if (!c) {
        c = new WorkloadApiClient({ socketPath: spiffe.endpoint(name) })
        clients.set(name, c)
      }
      return c
    },
    async close() {
      for (const c of clients.values()) c.close()
      await spiffe.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
