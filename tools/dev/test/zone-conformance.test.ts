import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { edgeAllowed, SERVICE_NODE_FLAGS } from '@cardplane/zones'
import { Redis } from 'ioredis'
import { keyPagesByPrefix, startPlatform } from '../src/index.js'

// The whole platform, every service as its own process with its own identity, then every ordered
// (caller, callee) pair: the caller's real JWT-SVID (from the caller's own socket, audience = callee)
// on the callee's GET /v1/probe. Allowed exactly for the zone map's edges, 403 and logged otherwise.
t.setTimeout(600_000)

const stateDir = await mkdtemp(join(tmpdir(), 'cpz-'))
const logs = new Map<string, string[]>()
const prefix = `cpt_${randomBytes(4).toString('hex')}`
const platform = await startPlatform({
  stateDir,
  databasePrefix: prefix,
  ports: 'ephemeral',
  bootstrap: false,
  // Probes only need the processes and their identities; readiness of some services depends on
  // bootstrap (an initialised key service), which this test does not run.
  waitFor: 'live',
  dropDatabasesOnStop: true,
  readyTimeoutMs: 300_000,
  logLevel: 'info',
  onLog: (service, _stream, line) => {
    let list = logs.get(service)
    if (!list) logs.set(service, (list = []))
    list.push(line)
  },
})
const clients = new Map<string, WorkloadApiClient>()
t.teardown(async () => {
  for (const c of clients.values()) c.close()
  await platform.stop()
  await rm(stateDir, { recursive: true, force: true })
})

const { zoneMap } = platform
const names = zoneMap.services.map((s) => s.name)

t.test('every service of the zone map started and answers', async (t) => {
  t.equal(platform.services.length, zoneMap.services.length)
  for (const s of platform.services) t.equal(s.state, 'live', `${s.name}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`)
})

t.test('every service runs with the service Node.js flags (as in the k8s manifests)', async (t) => {
  for (const s of platform.services) {
    const argv = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').split('\0')
    for (const f of SERVICE_NODE_FLAGS) t.ok(argv.includes(f), `${s.name} runs with ${f}`)
  }
})

/** Wait until the callee's log has a refusal line for this caller on /v1/probe (logs arrive through a pipe). */
async function refusalLogged(callee: string, callerId: string): Promise<boolean> {
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    const found = (logs.get(callee) ?? []).some((line) => {
      if (!line.startsWith('{')) return false
      const rec = JSON.parse(line) as { msg?: string; caller?: string; route?: string; status?: number }
      return rec.msg === 'spiffe auth refused' && rec.caller === callerId && rec.status === 403 && String(rec.route).includes('/v1/probe')
    })
    if (found) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

t.test('zone conformance matrix over real processes', async (t) => {
  const ready = new Set(platform.services.filter((s) => s.state === 'live' || s.state === 'ready').map((s) => s.name))
  const cells = new Map<string, string>()
  let mismatches = 0
  for (const caller of zoneMap.services) {
    const client = new WorkloadApiClient({ socketPath: platform.spiffe.endpoint(caller.name) })
    clients.set(caller.name, client)
    for (const callee of zoneMap.services) {
      const allowed = edgeAllowed(zoneMap, caller.name, callee.name)
      const key = `${caller.name}>${callee.name}`
      if (!ready.has(callee.name)) {
        cells.set(key, 'down')
        t.fail(`${callee.name} is not running; cannot check ${caller.name} -> ${callee.name}`)
        continue
      }
      const svid = await client.fetchJwtSvid(callee.spiffeId)
      t.equal(svid.spiffeId, caller.spiffeId, `${caller.name}'s socket hands out ${caller.name}'s identity`)
      const res = await fetch(`${platform.urls[callee.name]}/v1/probe`, { headers: { authorization: `Bearer ${svid.token}` } })
      const body = (await res.json()) as { service?: string; caller?: { service?: string }; error?: { code?: string } }
      const ok = allowed ? res.status === 200 : res.status === 403
      cells.set(key, `${res.status}${ok ? '' : '!'}`)
      if (!ok) mismatches++
      if (allowed) {
        t.equal(res.status, 200, `${caller.name} -> ${callee.name} is an edge: allowed`)
        t.equal(body.service, callee.name)
        t.equal(body.caller?.service, caller.name, 'callee saw the caller identity')
      } else {
        t.equal(res.status, 403, `${caller.name} -> ${callee.name} is not an edge: refused (${body.error?.code ?? ''})`)
        t.ok(await refusalLogged(callee.name, caller.spiffeId), `${callee.name} logged the refusal of ${caller.name}`)
      }
    }
  }

  const width = Math.max(...names.map((n) => n.length))
  const header = `${'caller \\ callee'.padEnd(width)}  ${names.map((n) => n.slice(0, 8).padStart(8)).join(' ')}`
  const rows = names.map(
    (c) => `${c.padEnd(width)}  ${names.map((e) => (cells.get(`${c}>${e}`) ?? '?').padStart(8)).join(' ')}`,
  )
  t.comment(
    ['Zone conformance matrix (HTTP status of GET /v1/probe; ! marks a mismatch with the zone map):', header, ...rows].join('\n'),
  )
  const edges = zoneMap.edges.length
  t.comment(`${names.length * names.length} pairs, ${edges} edges allowed, ${names.length * names.length - edges} refused, ${mismatches} mismatches`)
  t.equal(mismatches, 0, 'matrix matches the zone map exactly')
})

t.test('Redis keys follow the database prefix and go with the databases on stop', async (t) => {
  const redis = new Redis(process.env.CARDPLANE_REDIS_URL ?? 'redis://127.0.0.1:6379')
  t.teardown(() => redis.disconnect())
  // The processor's advice queue (BullMQ) writes its metadata when it starts: under the run's prefix, not
  // under the `cardplane:processor:` of a `pnpm start` that may run on the same machine.
  const own = async (): Promise<string[]> => {
    const keys: string[] = []
    for await (const page of keyPagesByPrefix(redis, `${prefix}:`)) keys.push(...page)
    return keys
  }
  const before = await own()
  t.ok(before.some((k) => k.startsWith(`${prefix}:processor:`)), `the processor's keys are the run's own (${before.length})`)
  await platform.stop()
  t.same(await own(), [], 'none left after stop')
})
