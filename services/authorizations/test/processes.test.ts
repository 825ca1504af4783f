import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { exampleAuthorizationRequest } from '@cardplane/contracts'
import { createServiceClient } from '@cardplane/service-kit'
import { createTestDatabase, type TestDatabase } from '@cardplane/pg-kit/testing'
import { startTestIdentities, type TestIdentities } from '@cardplane/service-kit/testing'
import { loadZoneMap } from '@cardplane/zones'

// Both services as their own processes, started by their real main.ts (config from env, migrations at
// startup, Workload API identity, ledger reached over HTTP with JWT-SVIDs), as the dev supervisor runs them.
const root = fileURLToPath(new URL('../../../', import.meta.url))
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url))

/** A port free right now (so both services can start at once knowing each other's address). */
async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise((r) => srv.close(r))
  return port
}

function start(name: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(tsx, [`services/${name}/src/main.ts`], {
    cwd: root,
    env: { ...process.env, PORT: '0', ...env, HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  children.push(child)
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${stderr}`)), 30_000)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; url?: string }
        if (rec.msg === 'service listening' && rec.url) {
          clearTimeout(timer)
          resolve({ child, url: rec.url })
        }
      } catch {
        // not a log line
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited ${code}: ${stderr}`))
    })
  })
}

let ids: TestIdentities
let dbs: TestDatabase[] = []
const children: ChildProcess[] = []
// If this file is killed (tap's timeout exits the process), never leave the services running.
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
})

t.teardown(async () => {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null) return
      const exited = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      await exited
    }),
  )
  await ids?.close()
  for (const d of dbs) await d.drop()
})

void t.test('ledger and authorizations start from main.ts and decide over real HTTP', async (t) => {
  const t0 = Date.now()
  ids = await startTestIdentities(loadZoneMap())
  const ledgerDb = await createTestDatabase('proc_ledger')
  const authDb = await createTestDatabase('proc_authz')
  dbs = [ledgerDb, authDb]
  const ledgerPort = await freePort()
  const [ledger, authz] = await Promise.all([
    start('ledger', {
      SPIFFE_ENDPOINT_SOCKET: ids.spiffe.endpoint('ledger'),
      DATABASE_URL: ledgerDb.url,
      PORT: String(ledgerPort),
    }),
    start('authorizations', {
      SPIFFE_ENDPOINT_SOCKET: ids.spiffe.endpoint('authorizations'),
      DATABASE_URL: authDb.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      VELOCITY_KEY_PREFIX: `test:proc:${Date.now()}`,
      CARDPLANE_SERVICE_URLS: JSON.stringify({ ledger: `http://127.0.0.1:${ledgerPort}` }),
    }),
  ])
  t.comment(`started in ${Date.now() - t0} ms`)

  const client = (caller: string, callee: string, baseUrl: string) =>
    createServiceClient({ callee, zoneMap: ids.zoneMap, svids: ids.client(caller), baseUrl })
  const cardsToLedger = client('cards', 'ledger', ledger.url)
  const cardsToAuthz = client('cards', 'authorizations', authz.url)
  const proxyToAuthz = client('proxy-internal', 'authorizations', authz.url)
  try {
    await cardsToLedger.request({ method: 'POST', path: '/v1/accounts', body: { id: 'acc_proc_1', currency: 'EUR' } })
    await cardsToLedger.request({
      method: 'POST',
      path: '/v1/accounts/acc_proc_1/credits',
      body: { idempotencyKey: 'fund_proc_1', amount: { minor: 5_000, currency: 'EUR' } },
    })
    await cardsToAuthz.request({
      method: 'PUT',
      path: '/v1/cards/card_proc_1',
      body: { accountId: 'acc_proc_1', programId: 'prog_proc', status: 'active', currency: 'EUR' },
    })
    const request = exampleAuthorizationRequest({ authorizationId: 'auth_proc_1', cardId: 'card_proc_1' })
    const d = await proxyToAuthz.request<{ outcome: string; holdId?: string }>({ method: 'POST', path: '/v1/decisions', body: request })
    t.equal(d.body.outcome, 'approve')
    t.ok(d.body.holdId)
    const acc = await cardsToLedger.request<{ held: { minor: number } }>({ method: 'GET', path: '/v1/accounts/acc_proc_1' })
    t.equal(acc.body.held.minor, 1_250)
    const ready = await fetch(`${authz.url}/readyz`)
    t.equal(ready.status, 200, 'ready: postgres, redis, trust bundle')
  } finally {
    await Promise.all([cardsToLedger.close(), cardsToAuthz.close(), proxyToAuthz.close()])
  }
  t.comment(`test body done at ${Date.now() - t0} ms`)
})
