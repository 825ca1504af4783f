// Replacement of the PAN index key: the real key service runs as a process (leak-scan's test platform), two
// card-vault app instances run in this process on the same real PostgreSQL database (rotation passes on demand,
// the job's timer off; a short key refresh so the second instance picks the replacement up quickly).
import { createHmac } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { refusal } from './helpers.js'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '@cardplane/pg-kit/testing'
import type { FastifyInstance } from 'fastify'
import { createLogger, createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { serviceByName } from '@cardplane/zones'
import { startTestPlatform, type TestPlatform, testProgram } from '@cardplane/tool-leak-scan/platform'
import { buildApp } from '../src/app.js'
import { loadCardVaultConfig } from '../src/config.js'
import { runMigrations } from '../src/db/migrate.js'
import { VaultKeyService } from '../src/keys/vault-key-service.js'

const PROGRAM = testProgram('index-rekey-gb', '45399140', '3000000')
const REFRESH_MS = 400

let platform: TestPlatform
let pool: pg.Pool
let db: TestDatabase
const apps: FastifyInstance[] = []
const clients: ServiceClient[] = []
const keyServices: VaultKeyService[] = []
/** Processor clients of instance A (runs the passes) and B (only reads). */
let a: ServiceClient
let b: ServiceClient
let appA: FastifyInstance
const logLines: string[] = []

async function instance(name: string): Promise<{ app: FastifyInstance; client: ServiceClient; url: string }> {
  const keys = new VaultKeyService({
    endpoint: platform.urls.keyvault!,
    svids: platform.workload('card-vault'),
    audience: serviceByName(platform.zoneMap, 'keyvault').spiffeId,
  })
  keyServices.push(keys)
  const config = loadCardVaultConfig({
    SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/unused.sock',
    DATABASE_URL: 'postgres://unused',
    CARD_VAULT_REWRAP_INTERVAL_MS: '0',
    CARD_VAULT_KEY_REFRESH_MS: String(REFRESH_MS),
  })
  const logger = createLogger({ name: `card-vault-${name}`, level: 'debug', destination: { write: (s: string) => void logLines.push(s) } })
  const app = await buildApp({ config, bundles: platform.workload('card-vault'), zoneMap: platform.zoneMap, pool, keys, logger })
  apps.push(app)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const client = createServiceClient({ callee: 'card-vault', zoneMap: platform.zoneMap, svids: platform.workload('processor'), baseUrl: url, timeoutMs: 20_000 })
  clients.push(client)
  return { app, client, url }
}

let urlA: string

t.before(async () => {
  platform = await startTestPlatform({ services: ['keyvault'], prefix: 'cv_idxrk' })
  db = await createTestDatabase('cv_idxrk')
  pool = new pg.Pool({ connectionString: db.url, max: 6 })
  await runMigrations(pool)
  const first = await instance('a')
  appA = first.app
  a = first.client
  urlA = first.url
  b = (await instance('b')).client
})

t.teardown(async () => {
  for (const c of clients) await c.close()
  for (const app of apps) await app.close()
  for (const k of keyServices) await k.close()
  await pool?.end()
  await platform?.stop()
  await db?.drop()
})

/** Issue cards through `c` and reveal their PANs (a card reveal session each). */
async function issue(c: ServiceClient, count: number): Promise<{ cardId: string; pan: string }[]> {
  const r = await c.request<{ cards: { cardId: string }[] }>({ method: 'POST', path: '/v1/cards', body: { program: PROGRAM, count } })
  const out: { cardId: string; pan: string }[] = []
  for (const { cardId } of r.body.cards) {
    const s = await c.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${cardId}/sessions`, body: { kind: 'card' } })
    const rev = await c.request<{ pan: string }>({ method: 'POST', path: '/v1/sessions/reveal', body: { token: s.body.token } })
    out.push({ cardId, pan: rev.body.pan })
  }
  return out
}

/** The card ID `/v1/resolve` or `/v1/verify` answers for a PAN; undefined when the card is not found. */
async function cardIdVia(c: ServiceClient, path: '/v1/resolve' | '/v1/verify', pan: string): Promise<string | undefined> {
  try {
    return (await c.request<{ cardId: string }>({ method: 'POST', path, body: { pan } })).body.cardId
  } catch {
    return undefined
  }
}
const resolve = (c: ServiceClient, pan: string): Promise<string | undefined> => cardIdVia(c, '/v1/resolve', pan)
const verify = (c: ServiceClient, pan: string): Promise<string | undefined> => cardIdVia(c, '/v1/verify', pan)

/** Resolve on an instance once its key refresh is due, retrying while the background re-read lands. */
async function resolvedAfterRefresh(c: ServiceClient, pan: string): Promise<string | undefined> {
  await sleep(REFRESH_MS + 100)
  let found: string | undefined
  for (let i = 0; i < 50 && found === undefined; i++) {
    found = await resolve(c, pan)
    if (found === undefined) await sleep(50)
  }
  return found
}

async function replace(c: ServiceClient): Promise<{ keyId: number; retiringKeyId: number }> {
  return (await c.request<{ keyId: number; retiringKeyId: number }>({ method: 'POST', path: '/v1/admin/index-key/replace', body: {} })).body
}

interface KeyRow {
  id: number
  active: boolean
  retired_at: Date | null
}

async function indexKeys(): Promise<KeyRow[]> {
  return (await pool.query<KeyRow>(`SELECT id, active, retired_at FROM data_keys WHERE purpose = 'index' ORDER BY id`)).rows
}

async function indexKeyOf(cardId: string): Promise<{ index_key_id: number; pan_hmac: Buffer }> {
  return (await pool.query<{ index_key_id: number; pan_hmac: Buffer }>('SELECT index_key_id, pan_hmac FROM cards WHERE card_id = $1', [cardId])).rows[0]!
}

/** An index key in clear, unwrapped here by the key service (root). */
async function clearIndexKey(id: number): Promise<Buffer> {
  const k = await pool.query<{ kek_name: string; wrapped: string }>('SELECT kek_name, wrapped FROM data_keys WHERE id = $1', [id])
  const dk = await platform.keyvaultRoot!.write(`transit/decrypt/${k.rows[0]!.kek_name}`, { ciphertext: k.rows[0]!.wrapped })
  return Buffer.from(String(dk.data.plaintext), 'base64')
}

t.test('PAN index key replacement: lookups throughout, re-indexing in the pass, one replacement at a time, a second instance follows', async (t) => {
  const before = await issue(a, 5)
  for (const c of before) {
    t.equal(await resolve(b, c.pan), c.cardId, 'instance B resolves a card before the replacement (its keys read)')
  }
  const [old] = await indexKeys()
  t.ok(old?.active, 'one active index key to begin with')

  // Only the operator path may start a replacement.
  const manufacturing = createServiceClient({ callee: 'card-vault', zoneMap: platform.zoneMap, svids: platform.workload('manufacturing'), baseUrl: urlA, timeoutMs: 20_000 })
  clients.push(manufacturing)
  t.equal((await refusal(manufacturing.request({ method: 'POST', path: '/v1/admin/index-key/replace', body: {} }))).status, 403, 'another caller is refused')
  t.same((await indexKeys()).map((k) => k.id), [old!.id], 'and nothing changed')

  const r = await replace(a)
  t.equal(r.retiringKeyId, old!.id, 'the previous key is retiring')
  const keysNow = await indexKeys()
  t.same(
    keysNow.map((k) => [k.id, k.active, k.retired_at]),
    [
      [old!.id, false, null],
      [r.keyId, true, null],
    ],
    'data_keys: new key active, old one not active and not retired',
  )
  t.same(await refusal(replace(a)), { status: 409, code: 'index_key_retiring' }, 'a second replacement while one is retiring is refused')
  t.equal((await indexKeys()).length, 2, 'and makes no key')

  // Before re-indexing: every card still under the old key, found through the retiring key.
  for (const c of before) {
    t.equal((await indexKeyOf(c.cardId)).index_key_id, old!.id)
    t.equal(await resolve(a, c.pan), c.cardId, 'resolve finds a card not re-indexed yet')
    t.equal(await verify(a, c.pan), c.cardId, 'verify finds it too')
  }
  const after = await issue(a, 2)
  for (const c of after) {
    t.equal((await indexKeyOf(c.cardId)).index_key_id, r.keyId, 'a card issued after the replacement is indexed under the new key')
    t.equal(await resolve(a, c.pan), c.cardId)
    t.equal(await verify(a, c.pan), c.cardId)
  }
  t.equal(await resolve(a, '4539914099999999'), undefined, 'an unknown PAN is still not found')

  // Instance B picks up the new key after its refresh (a stale read starts a re-read in the background).
  t.equal(await resolvedAfterRefresh(b, after[0]!.pan), after[0]!.cardId, 'instance B resolves a card issued under the new key')
  t.equal(await verify(b, before[0]!.pan), before[0]!.cardId, 'and one under the retiring key')

  // The pass: every row under the new key, the old key retired (its successor is older than the refresh time).
  const pass = await appA.rewrap.runOnce()
  t.same([pass.indexRows, pass.indexRowsLeft, pass.indexKeysRetired], [5, 0, 1], 'the pass re-indexed the five old cards and retired the old key')
  const newKey = await clearIndexKey(r.keyId)
  for (const c of [...before, ...after]) {
    const row = await indexKeyOf(c.cardId)
    t.equal(row.index_key_id, r.keyId, 'under the new key')
    t.ok(row.pan_hmac.equals(createHmac('sha256', newKey).update(c.pan, 'utf8').digest()), 'its HMAC is the PAN under the new key (found without the fallback)')
  }
  const retired = await indexKeys()
  t.ok(retired[0]!.retired_at instanceof Date && !retired[0]!.active, 'the old key is retired')
  t.ok(retired[1]!.active && retired[1]!.retired_at === null, 'the new one active')
  for (const c of [...before, ...after]) {
    t.equal(await resolve(a, c.pan), c.cardId, 'resolve after the pass')
    t.equal(await verify(a, c.pan), c.cardId, 'verify after the pass')
    t.equal(await verify(b, c.pan), c.cardId, 'instance B after the pass')
  }
  const again = await appA.rewrap.runOnce()
  t.same([again.indexRows, again.indexKeysRetired], [0, 0], 'a second pass has nothing to do')

  // With the old key retired, the next replacement may start.
  const r2 = await replace(b)
  t.equal(r2.retiringKeyId, r.keyId, 'a new replacement (from instance B) once the previous key is retired')
  const onB = await issue(b, 1)
  t.equal((await indexKeyOf(onB[0]!.cardId)).index_key_id, r2.keyId, 'instance B indexes new cards under its new key')
  t.equal(await resolvedAfterRefresh(a, onB[0]!.pan), onB[0]!.cardId, 'instance A picks up the replacement made by B')
  t.equal(await verify(a, before[1]!.pan), before[1]!.cardId, 'and finds the older cards through the now retiring key')

  // No PAN or PAN HMAC in either instance's log.
  const log = logLines.join('')
  t.ok(log.includes('PAN index key replacement started') && log.includes('cards re-indexed'), 'the log holds the events')
  const hmacs = (await pool.query<{ pan_hmac: Buffer }>('SELECT pan_hmac FROM cards')).rows.map((x) => x.pan_hmac)
  for (const c of [...before, ...after, ...onB]) t.notOk(log.includes(c.pan), 'no PAN in the log')
  for (const h of hmacs) t.notOk(log.includes(h.toString('hex')) || log.includes(h.toString('base64')), 'no PAN HMAC in the log')
})
