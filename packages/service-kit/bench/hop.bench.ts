// What one authenticated service-to-service hop costs in CPU: a service-kit app (SPIFFE auth, metrics,
// error handler, redacting logger at `warn`) answering a small JSON POST, called through the service-kit
// client (JWT-SVID, keep-alive undici pool), server and client in separate processes. The same load
// against bare fastify called with bare undici gives the framework floor. Figures: CPU µs per request of
// each side, throughput, load average. Writes packages/service-kit/bench/hop-results.json.
// Run: pnpm --filter @cardplane/service-kit bench:hop  (BENCH_REQUESTS, BENCH_CONCURRENCY)
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { Pool } from 'undici'
import { loadZoneMap } from '@cardplane/zones'
import { createServiceApp, createServiceClient } from '../src/index.js'
import { startTestIdentities } from '../src/testing.js'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const BODY = { authorizationId: 'visa:400050:20261122T101500:000123', cardId: 'card_0123456789abcdef', amount: { minor: 1250, currency: 'EUR' } }

type Msg = { kind: 'listening'; port: number } | { kind: 'cpu'; us: number }

/** Child: run one server kind until told to report its CPU. */
async function serve(kind: 'service-kit' | 'bare', socket?: string): Promise<void> {
  let listen: () => Promise<number>
  if (kind === 'service-kit') {
    const { WorkloadApiClient } = await import('@cardplane/spiffe')
    const bundles = new WorkloadApiClient({ socketPath: socket! })
    const app = await createServiceApp({ service: 'authorizations', config: { LOG_LEVEL: 'warn' }, bundles, zoneMap: loadZoneMap() })
    app.post('/v1/echo', { config: { callers: ['proxy-internal'] } }, async (req) => ({ ok: true, id: (req.body as { authorizationId: string }).authorizationId }))
    listen = async () => Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port)
  } else {
    const app = Fastify()
    app.post('/v1/echo', async (req) => ({ ok: true, id: (req.body as { authorizationId: string }).authorizationId }))
    listen = async () => Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port)
  }
  const port = await listen()
  let cpu0 = process.cpuUsage()
  process.on('message', (m: string) => {
    if (m === 'start') cpu0 = process.cpuUsage()
    if (m === 'exit') process.exit(0)
    if (m === 'report') {
      const c = process.cpuUsage(cpu0)
      process.send!({ kind: 'cpu', us: c.user + c.system } satisfies Msg)
    }
  })
  process.send!({ kind: 'listening', port } satisfies Msg)
}

function ask(child: ReturnType<typeof fork>, m: string): Promise<Msg> {
  return new Promise((resolve) => {
    child.once('message', (x: Msg) => resolve(x))
    child.send(m)
  })
}

async function run(kind: 'service-kit' | 'bare', socket: string | undefined, send: () => Promise<void>): Promise<Record<string, number>> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', kind, socket ?? ''], { execArgv: [...(process.env.HOP_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/hopprof'] : []), '--import', 'tsx'] })
  const ready = await new Promise<Msg>((resolve) => child.once('message', (m: Msg) => resolve(m)))
  if (ready.kind !== 'listening') throw new Error('server did not start')
  port = ready.port
  for (let i = 0; i < 2000; i++) await send() // warm-up (JIT, SVID cache, keep-alive connections)
  child.send('start')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let left = REQUESTS
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (left-- > 0) await send()
  }))
  const seconds = (performance.now() - t0) / 1000
  const client = process.cpuUsage(cpu0)
  const server = (await ask(child, 'report')) as { kind: 'cpu'; us: number }
  child.send('exit')
  return {
    requestsPerSecond: Math.round(REQUESTS / seconds),
    serverCpuUsPerRequest: Math.round(server.us / REQUESTS),
    clientCpuUsPerRequest: Math.round((client.user + client.system) / REQUESTS),
  }
}

let port = 0

async function main(): Promise<void> {
  const zoneMap = loadZoneMap()
  const ids = await startTestIdentities(zoneMap, ['proxy-internal', 'authorizations'])
  const load0 = loadavg()
  let barePool: Pool | undefined
  const bareResult = await run('bare', undefined, async () => {
    barePool ??= new Pool(`http://127.0.0.1:${port}`, { connections: 16 })
    const res = await barePool.request({ method: 'POST', path: '/v1/echo', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BODY) })
    await res.body.json()
  })
  await barePool?.close()
  let client: ReturnType<typeof createServiceClient> | undefined
  const kitResult = await run('service-kit', ids.spiffe.endpoint('authorizations'), async () => {
    client ??= createServiceClient({ callee: 'authorizations', zoneMap, svids: ids.client('proxy-internal'), baseUrl: `http://127.0.0.1:${port}` })
    await client.request({ method: 'POST', path: '/v1/echo', body: BODY })
  })
  await client?.close()
  await ids.close()
  const report = {
    benchmark: 'one authenticated service hop (pnpm --filter @cardplane/service-kit bench:hop)',
    measuredAt: new Date().toISOString(),
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    loadavgBefore: load0,
    loadavgAfter: loadavg(),
    bare: { what: 'fastify (no logger) + undici Pool, JSON POST', ...bareResult },
    serviceKit: { what: 'createServiceApp (SPIFFE auth, metrics, logger at warn) + createServiceClient (JWT-SVID)', ...kitResult },
  }
  writeFileSync(new URL('./hop-results.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`)
  console.log(JSON.stringify(report, null, 2))
}

const serveAt = process.argv.indexOf('--serve')
if (serveAt > 0) {
  await serve(process.argv[serveAt + 1] as 'service-kit' | 'bare', process.argv[serveAt + 2] || undefined)
} else {
  await main()
}
