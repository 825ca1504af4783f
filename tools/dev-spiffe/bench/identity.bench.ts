/**
 * Identity hot paths, measured end to end on this machine:
 *  - validateJwtSvid (ES256, bundle key already imported): full validation and a verified-token cache hit,
 *  - a request through fastify + spiffeAuth (app.inject, valid token, allowed caller),
 *  - WorkloadApiClient.fetchJwtSvid: cached, and uncached (one gRPC round trip over the Unix socket
 *    plus ES256 signing in dev-spiffe).
 * Run: `pnpm --filter @cardplane/tool-dev-spiffe bench`. Writes bench/results.json next to this file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { loadZoneMap, serviceByName } from '@cardplane/zones'
import { spiffeAuth, validateJwtSvid, WorkloadApiClient } from '@cardplane/spiffe'
import { startDevSpiffe } from '../src/index.js'

interface Figure {
  name: string
  iterations: number
  opsPerSec: number
  p50us: number
  p99us: number
}

async function measure(name: string, iterations: number, fn: (i: number) => Promise<unknown>): Promise<Figure> {
  for (let i = 0; i < Math.min(200, iterations); i++) await fn(i) // warm-up
  const samples: number[] = []
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint()
    await fn(i)
    samples.push(Number(process.hrtime.bigint() - t0) / 1000)
  }
  const totalSec = Number(process.hrtime.bigint() - start) / 1e9
  samples.sort((a, b) => a - b)
  const pct = (p: number): number => Math.round((samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0) * 10) / 10
  const fig = { name, iterations, opsPerSec: Math.round(iterations / totalSec), p50us: pct(0.5), p99us: pct(0.99) }
  process.stdout.write(`${name.padEnd(48)} ${String(fig.opsPerSec).padStart(8)} ops/s  p50 ${fig.p50us} µs  p99 ${fig.p99us} µs\n`)
  return fig
}

const zoneMap = loadZoneMap()
const dir = await mkdtemp(join(tmpdir(), 'cp-bench-'))
const dev = await startDevSpiffe({ dir, trustDomain: zoneMap.trustDomain, services: zoneMap.services })
const self = serviceByName(zoneMap, 'processor')
const callerClient = new WorkloadApiClient({ socketPath: dev.endpoint('proxy-public') })
const selfClient = new WorkloadApiClient({ socketPath: dev.endpoint('processor') })
await selfClient.ready()
const token = (await callerClient.fetchJwtSvid(self.spiffeId)).token

const app = Fastify({ logger: false })
await app.register(spiffeAuth, { self, zoneMap, bundles: selfClient })
app.get('/v1/probe', { config: { callers: ['proxy-public'] } }, async () => ({ ok: true }))
await app.ready()

const figures: Figure[] = []
const opts = { audience: self.spiffeId, trustDomain: zoneMap.trustDomain, bundles: selfClient }
figures.push(await measure('validateJwtSvid ES256, full (cache: false)', 3000, () => validateJwtSvid(token, { ...opts, cache: false })))
figures.push(await measure('validateJwtSvid ES256, repeated token (cache hit)', 20000, () => validateJwtSvid(token, opts)))
figures.push(
  await measure('fastify + spiffeAuth (inject, allowed caller)', 3000, async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${token}` } })
    if (res.statusCode !== 200) throw new Error(`unexpected ${res.statusCode}`)
  }),
)
figures.push(await measure('fetchJwtSvid cached', 20000, () => callerClient.fetchJwtSvid(self.spiffeId)))
figures.push(await measure('fetchJwtSvid uncached (gRPC + ES256 sign)', 2000, (i) => callerClient.fetchJwtSvid(`spiffe://cardplane.dev/g0/bench-${i}`)))

await app.close()
callerClient.close()
selfClient.close()
await dev.stop()
await rm(dir, { recursive: true, force: true })

const out = join(dirname(fileURLToPath(import.meta.url)), 'results.json')
// Shared 2-core machine: other processes run alongside, so p99 figures are noisy; p50 is the useful one.
const env = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, date: new Date().toISOString() }
await writeFile(out, `${JSON.stringify({ env, figures }, null, 2)}\n`)
process.stdout.write(`wrote ${out}\n`)
