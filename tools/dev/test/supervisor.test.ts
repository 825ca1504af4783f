import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import pg from 'pg'
import { loadZoneMap } from '@cardplane/zones'
import { DEFAULT_PG_URL, PreflightError, renderTable, startPlatform } from '../src/index.js'

t.setTimeout(240_000)

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

t.test('unreachable PostgreSQL or Redis: clear error naming the variable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cps-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const port = await closedPort()
  const pgErr = await startPlatform({ stateDir: dir, databasePrefix: 'x', ports: 'ephemeral', pgUrl: `postgres://postgres:secret@127.0.0.1:${port}/postgres` }).catch(
    (e: unknown) => e,
  )
  t.ok(pgErr instanceof PreflightError)
  t.equal((pgErr as PreflightError).code, 'postgres_unreachable')
  t.match((pgErr as Error).message, /PostgreSQL is not reachable at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres \(ECONNREFUSED\)/)
  t.match((pgErr as Error).message, /CARDPLANE_PG_URL/)
  t.notMatch((pgErr as Error).message, /secret/, 'password masked')

  const redisErr = await startPlatform({ stateDir: dir, databasePrefix: 'x', ports: 'ephemeral', redisUrl: `redis://127.0.0.1:${port}` }).catch(
    (e: unknown) => e,
  )
  t.equal((redisErr as PreflightError).code, 'redis_unreachable')
  t.match((redisErr as Error).message, /Redis is not reachable at redis:\/\/127\.0\.0\.1:\d+ .*CARDPLANE_REDIS_URL/)
})

t.test('missing, crashing and never-ready services are reported, not waited on forever', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cps-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const svc = async (name: string, main?: string): Promise<string> => {
    const d = join(dir, 'svc', name)
    await mkdir(join(d, 'src'), { recursive: true })
    if (main !== undefined) await writeFile(join(d, 'src/main.ts'), main)
    return d
  }
  const server = (readyStatus: number): string => `
import { createServer } from 'node:http'
import { existsSync } from 'node:fs'
const env = { socket: process.env.SPIFFE_ENDPOINT_SOCKET, db: process.env.DATABASE_URL, urls: process.env.CARDPLANE_SERVICE_URLS,
  socketExists: existsSync(String(process.env.SPIFFE_ENDPOINT_SOCKET).replace('unix://', '')) }
const srv = createServer((req, res) => {
  res.statusCode = req.url === '/readyz' ? ${readyStatus} : 200
  res.end(JSON.stringify(req.url === '/env' ? env : { ok: true }))
}).listen(Number(process.env.PORT), process.env.HOST)
process.on('SIGTERM', () => srv.close(() => process.exit(0)))
console.log(JSON.stringify({ level: 'info', msg: 'up' }))
`
  const dirs = {
    gone: await svc('gone'),
    crash: await svc('crash', `process.stderr.write('boom: cannot start\\n'); process.exit(3)\n`),
    stuck: await svc('stuck', server(503)),
    fine: await svc('fine', server(200)),
  }
  const zonesFile = join(dir, 'zones.yaml')
  await writeFile(
    zonesFile,
    [
      'trustDomain: test.local',
      'groups: [{ id: 0, name: main, namespace: ns0 }]',
      'services:',
      ...Object.entries(dirs).map(([n, d], i) => `  - { name: ${n}, group: 0, dir: "${d}", devPort: ${20000 + i} }`),
      'edges: []',
    ].join('\n'),
  )
  const bootDir = join(dir, 'boot')
  await mkdir(bootDir)
  await writeFile(
    join(bootDir, '10-record.ts'),
    `import { writeFileSync } from 'node:fs'\nexport default async function (ctx: { urls: Record<string, string>; stateDir: string }) { writeFileSync(ctx.stateDir + '/boot.json', JSON.stringify(ctx.urls)) }\n`,
  )
  await writeFile(join(bootDir, '20-fails.ts'), `export default async function () { throw new Error('no key service') }\n`)
  await writeFile(join(bootDir, 'README.md'), 'not a step')

  const prefix = `cps_${randomBytes(4).toString('hex')}`
  const lines: string[] = []
  const started = Date.now()
  const platform = await startPlatform({
    stateDir: dir,
    databasePrefix: prefix,
    ports: 'ephemeral',
    zoneMap: loadZoneMap(zonesFile),
    readyTimeoutMs: 25_000,
    bootstrapDir: bootDir,
    dropDatabasesOnStop: true,
    onLog: (service, stream, line) => lines.push(`${service}:${stream}:${line}`),
  })
  const took = Date.now() - started
  const by = Object.fromEntries(platform.services.map((s) => [s.name, s]))
  t.comment(renderTable(platform.services))
  t.equal(by.gone?.state, 'missing')
  t.match(by.gone?.reason, /src\/main\.ts does not exist yet/)
  t.equal(by.crash?.state, 'failed')
  t.match(by.crash?.reason, /exited \(code 3\)/)
  t.equal(by.stuck?.state, 'live')
  t.match(by.stuck?.reason, /\/readyz answered 503/)
  t.equal(by.fine?.state, 'ready')
  t.ok(took < 60_000, `bounded by the readiness timeout (${took} ms)`)
  t.ok(lines.includes('crash:stderr:boom: cannot start'), 'child output is streamed with its service name')
  t.ok(lines.some((l) => l.startsWith('fine:stdout:') && l.includes('"msg":"up"')))

  const env = (await (await fetch(`${platform.urls.fine}/env`)).json()) as { socket: string; db: string; urls: string; socketExists: boolean }
  t.equal(env.socket, platform.spiffe.endpoint('fine'), 'own Workload API socket')
  t.ok(env.socketExists)
  t.match(env.db, new RegExp(`/${prefix}_fine$`), 'own database')
  t.same(JSON.parse(env.urls), platform.urls, 'every service URL')

  t.same(
    platform.bootstrap.map((b) => [b.step, b.ok, b.error]),
    [
      ['10-record.ts', true, undefined],
      ['20-fails.ts', false, 'no key service'],
    ],
  )
  t.same(JSON.parse(await readFile(join(dir, 'boot.json'), 'utf8')), platform.urls, 'bootstrap got the URLs')

  const admin = new pg.Client({ connectionString: DEFAULT_PG_URL })
  await admin.connect()
  t.teardown(() => admin.end())
  const dbs = async (): Promise<string[]> =>
    (await admin.query<{ datname: string }>('select datname from pg_database where datname like $1 order by 1', [`${prefix}_%`])).rows.map(
      (r) => r.datname,
    )
  t.same(await dbs(), [`${prefix}_crash`, `${prefix}_fine`, `${prefix}_gone`, `${prefix}_stuck`], 'one database per service')

  const pids = platform.services.flatMap((s) => (s.pid ? [s.pid] : []))
  await platform.stop()
  for (const pid of pids) t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} is gone`)
  t.notOk(existsSync(join(dir, 'spiffe')), 'sockets removed')
  t.same(await dbs(), [], 'test databases dropped')
})
