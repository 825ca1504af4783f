/**
 * dev-spiffe CLI: start a development Workload API with one socket per service of the zone map.
 *
 *   tsx tools/dev-spiffe/src/main.ts [--dir <dir>] [--zones <zones.yaml>] [--trust-domain <td>]
 *                                    [--ttl <seconds>] [--json]
 *
 * Prints one line per service (name, SPIFFE ID, SPIFFE_ENDPOINT_SOCKET value), or with --json a single
 * JSON line `{"trustDomain":…,"sockets":{"<name>":"unix://…"}}`, then serves until SIGINT/SIGTERM.
 * Defaults: dir `<tmpdir>/cardplane-spiffe-<uid>`, zones from CARDPLANE_ZONES_FILE or k8s/zones.yaml,
 * trust domain from CARDPLANE_TRUST_DOMAIN or the zone map, SVID lifetime 300 s.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_ZONE_MAP_PATH, loadZoneMap } from '@cardplane/zones'
import { startDevSpiffe } from './dev-spiffe-server.js'

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      zones: { type: 'string' },
      'trust-domain': { type: 'string' },
      ttl: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  })
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0
  const dir = values.dir ?? join(tmpdir(), `cardplane-spiffe-${uid}`)
  const zonesPath = values.zones ?? process.env.CARDPLANE_ZONES_FILE ?? DEFAULT_ZONE_MAP_PATH
  const trustDomain = values['trust-domain'] ?? process.env.CARDPLANE_TRUST_DOMAIN
  const zoneMap = loadZoneMap(zonesPath, trustDomain ? { trustDomain } : {})
  const ttl = values.ttl === undefined ? 300 : Number(values.ttl)

  const dev = await startDevSpiffe({
    dir,
    trustDomain: zoneMap.trustDomain,
    services: zoneMap.services.map((s) => ({ name: s.name, spiffeId: s.spiffeId })),
    svidTtlSec: ttl,
  })

  if (values.json) {
    const sockets = Object.fromEntries(zoneMap.services.map((s) => [s.name, dev.endpoint(s.name)]))
    process.stdout.write(`${JSON.stringify({ trustDomain: zoneMap.trustDomain, sockets })}\n`)
  } else {
    const w = Math.max(...zoneMap.services.map((s) => s.name.length))
    const wid = Math.max(...zoneMap.services.map((s) => s.spiffeId.length))
    process.stdout.write(`dev-spiffe: trust domain ${zoneMap.trustDomain}, kid ${dev.trustBundle.keys[0]?.kid ?? '?'}\n`)
    for (const s of zoneMap.services) {
      process.stdout.write(`${s.name.padEnd(w)}  ${s.spiffeId.padEnd(wid)}  ${dev.endpoint(s.name)}\n`)
    }
  }

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    dev.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`dev-spiffe: stop failed: ${(err as Error).message}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`dev-spiffe: ${(err as Error).message}\n`)
  process.exit(1)
})
