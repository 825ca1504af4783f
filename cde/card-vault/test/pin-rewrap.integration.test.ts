// Rotation of the PIN storage key (pek): the real key service runs as a process (leak-scan's test platform),
// the card vault runs in this process on real PostgreSQL so a rotation pass can be run on demand
// (`app.rewrap.runOnce()`, the job's timer off). Stored blocks are checked by opening the sealed records here.
import t from 'tap'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '@cardplane/pg-kit/testing'
import type { FastifyInstance } from 'fastify'
import { createLogger, createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { serviceByName } from '@cardplane/zones'
import { startTestPlatform, TEST_KEYS, type TestPlatform, testProgram } from '@cardplane/tool-leak-scan/platform'
import { buildApp } from '../src/app.js'
import { loadCardVaultConfig } from '../src/config.js'
import { runMigrations } from '../src/db/migrate.js'
import { openRecord } from '../src/domain/envelope.js'
import { VaultKeyService } from '../src/keys/vault-key-service.js'
import { CardStore } from '../src/store/card-store.js'

const PROGRAM = testProgram('pin-rewrap-gb', '45399130', '2000000')

let platform: TestPlatform
let app: FastifyInstance
let keys: VaultKeyService
let pool: pg.Pool
let vault: ServiceClient
let db: TestDatabase
const logLines: string[] = []

t.before(async () => {
  platform = await startTestPlatform({ services: ['keyvault'], prefix: 'cv_pinrw' })
  db = await createTestDatabase('cv_pinrw')
  pool = new pg.Pool({ connectionString: db.url, max: 4 })
  await runMigrations(pool)
  keys = new VaultKeyService({
    endpoint: platform.urls.keyvault!,
    svids: platform.workload('card-vault'),
    audience: serviceByName(platform.zoneMap, 'keyvault').spiffeId,
  })
  const config = loadCardVaultConfig({
    SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/unused.sock',
    DATABASE_URL: 'postgres://unused',
    CARD_VAULT_REWRAP_INTERVAL_MS: '0',
  })
  const logger = createLogger({ name: 'card-vault', level: 'debug', destination: { write: (s: string) => void logLines.push(s) } })
  app = await buildApp({ config, bundles: platform.workload('card-vault'), zoneMap: platform.zoneMap, pool, keys, logger })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  vault = createServiceClient({ callee: 'card-vault', zoneMap: platform.zoneMap, svids: platform.workload('processor'), baseUrl: url, timeoutMs: 20_000 })
})

t.teardown(async () => {
  await vault?.close()
  await app?.close()
  await keys?.close()
  await pool?.end()
  await platform?.stop()
  await db?.drop()
})

interface Row {
  pin_key_version: number | null
  dek_id: number
  record: Buffer
  updated_at: Date
}

async function row(cardId: string): Promise<Row> {
  const r = await pool.query<Row>('SELECT pin_key_version, dek_id, record, updated_at FROM cards WHERE card_id = $1', [cardId])
  return r.rows[0]!
}

/** The sealed record opened here: its data key unwrapped by the key service (root), then AES-GCM opened. */
async function opened(cardId: string): Promise<{ pan: string; pinb?: { k: string; b: string; v: number } }> {
  const r = await row(cardId)
  const k = await pool.query<{ kek_name: string; wrapped: string }>('SELECT kek_name, wrapped FROM data_keys WHERE id = $1', [r.dek_id])
  const dk = await platform.keyvaultRoot!.write(`transit/decrypt/${k.rows[0]!.kek_name}`, { ciphertext: k.rows[0]!.wrapped })
  return JSON.parse(openRecord(Buffer.from(String(dk.data.plaintext), 'base64'), cardId, r.record).toString('utf8')) as { pan: string; pinb?: { k: string; b: string; v: number } }
}

async function issue(extra: Record<string, unknown> = {}): Promise<string> {
  const r = await vault.request<{ cards: { cardId: string }[] }>({ method: 'POST', path: '/v1/cards', body: { program: PROGRAM, count: 1, ...extra } })
  return r.body.cards[0]!.cardId
}

async function session(cardId: string, kind: 'pin_set' | 'pin_reveal'): Promise<string> {
  return (await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${cardId}/sessions`, body: { kind } })).body.token
}

async function setPin(cardId: string, pin: string): Promise<void> {
  await vault.request({ method: 'POST', path: '/v1/sessions/pin', body: { token: await session(cardId, 'pin_set'), pin } })
}

async function revealPin(cardId: string): Promise<string> {
  return (await vault.request<{ pin: string }>({ method: 'POST', path: '/v1/sessions/pin-reveal', body: { token: await session(cardId, 'pin_reveal') } })).body.pin
}

t.test('pek rotation: one pass moves stored PIN blocks to the new version, PINs unchanged, nothing else touched', async (t) => {
  const noPin = await issue()
  const chosen = await issue()
  await setPin(chosen, '730591')
  const random = await issue({ pin: { zpkName: TEST_KEYS.zpk } })
  const randomPin = await revealPin(random)
  t.match(randomPin, /^\d{4}$/)

  t.equal((await row(noPin)).pin_key_version, null, 'no PIN: no version')
  t.equal((await row(chosen)).pin_key_version, 1, 'PIN set writes the column with the record')
  t.equal((await row(random)).pin_key_version, 1, 'issuance with a PIN writes it too')
  const first = await app.rewrap.runOnce()
  t.same([first.pinBlocks, first.pinVersionsRecorded, first.pinKeyVersion], [0, 0, 1], 'nothing to move before the rotation')

  // A row from before the column: PIN stored, version unknown.
  await pool.query('UPDATE cards SET pin_key_version = NULL WHERE card_id = $1', [random])
  const before = { chosen: await opened(chosen), random: await opened(random) }
  t.equal(before.chosen.pinb?.v, 1)
  const noPinBefore = await row(noPin)

  await platform.keyvaultRoot!.write(`keys/${TEST_KEYS.pek}/rotate`, {})
  const pass = await app.rewrap.runOnce()
  t.same(
    { pinBlocks: pass.pinBlocks, recorded: pass.pinVersionsRecorded, refused: pass.pinBlocksRefused, version: pass.pinKeyVersion, records: pass.records },
    { pinBlocks: 2, recorded: 0, refused: 0, version: 2, records: 0 },
    'one pass moved both blocks (the one of unknown version too) to v2',
  )
  for (const [name, cardId] of [['chosen', chosen], ['random', random]] as const) {
    t.equal((await row(cardId)).pin_key_version, 2, `${name}: column says v2`)
    const rec = await opened(cardId)
    t.same([rec.pinb?.k, rec.pinb?.v], [TEST_KEYS.pek, 2], `${name}: the sealed record's block is under v2`)
    t.not(rec.pinb?.b, before[name].pinb?.b, `${name}: a new block`)
    t.equal(rec.pan, before[name].pan, `${name}: the rest of the record unchanged`)
  }
  t.equal(await revealPin(chosen), '730591', 'PIN reveal: the same chosen PIN')
  t.equal(await revealPin(random), randomPin, 'PIN reveal: the same random PIN')
  const noPinAfter = await row(noPin)
  t.same([noPinAfter.pin_key_version, noPinAfter.updated_at, noPinAfter.record.equals(noPinBefore.record)], [null, noPinBefore.updated_at, true], 'a card without a PIN is untouched')

  // Again: nothing moves, nothing is written.
  const chosenRow = await row(chosen)
  const again = await app.rewrap.runOnce()
  t.same([again.pinBlocks, again.pinVersionsRecorded, again.records], [0, 0, 0], 'a second pass moves nothing')
  const chosenAgain = await row(chosen)
  t.ok(chosenAgain.record.equals(chosenRow.record) && chosenAgain.updated_at.getTime() === chosenRow.updated_at.getTime(), 'and writes nothing')

  // A row of unknown version whose block is already current is only recorded.
  await pool.query('UPDATE cards SET pin_key_version = NULL WHERE card_id = $1', [chosen])
  const backfill = await app.rewrap.runOnce()
  t.same([backfill.pinBlocks, backfill.pinVersionsRecorded], [0, 1], 'opened once, column filled in')
  t.equal((await row(chosen)).pin_key_version, 2)
  t.ok((await row(chosen)).record.equals(chosenRow.record), 'record unchanged')

  // A PIN set after the pass read its work is never overwritten: the guarded UPDATE finds the row changed.
  const store = new CardStore(pool)
  await platform.keyvaultRoot!.write(`keys/${TEST_KEYS.pek}/rotate`, {})
  const [stale] = await store.cardsWithPinBelow(3, '', 10).then((rows) => rows.filter((r) => r.cardId === chosen))
  t.ok(stale, 'the chosen card is on the v3 work list')
  await setPin(chosen, '480215')
  t.equal((await row(chosen)).pin_key_version, 3, 'the new PIN is stored under v3 at once')
  t.equal(await store.replacePinRecord(chosen, stale!, stale!.dekId, stale!.record, 3), false, 'the stale rewrite is refused')
  t.equal(await revealPin(chosen), '480215', 'the new PIN stands')
  const v3 = await app.rewrap.runOnce()
  t.same([v3.pinBlocks, v3.pinKeyVersion], [1, 3], 'the next pass moves only the random card (the new PIN is already under v3)')
  t.equal(await revealPin(random), randomPin)

  // Blocks the key service refuses (their version retired before the pass) are left and counted; the pass ends normally.
  const pan = (await opened(random)).pan
  await platform.keyvaultRoot!.write(`keys/${TEST_KEYS.pek}/rotate`, {})
  await platform.keyvaultRoot!.write(`keys/${TEST_KEYS.pek}/config`, { min_decryption_version: 4 })
  const refused = await app.rewrap.runOnce()
  t.same([refused.pinBlocks, refused.pinBlocksRefused, refused.pinKeyVersion], [0, 2, 4], 'both v3 blocks refused, counted, left')
  t.same([(await row(chosen)).pin_key_version, (await row(random)).pin_key_version], [3, 3], 'columns unchanged')
  t.ok(logLines.some((l) => l.includes('refused to rewrap')), 'and logged as a warning')
  await platform.keyvaultRoot!.write(`keys/${TEST_KEYS.pek}/config`, { min_decryption_version: 1 })
  const resumed = await app.rewrap.runOnce()
  t.same([resumed.pinBlocks, resumed.pinBlocksRefused], [2, 0], 'moved by the next pass once the version decrypts again')
  t.same([(await opened(chosen)).pinb?.v, (await opened(random)).pinb?.v], [4, 4])
  t.same([await revealPin(chosen), await revealPin(random)], ['480215', randomPin], 'PINs unchanged')

  const logs = logLines.join('')
  t.ok(logs.includes('stored PIN blocks rewrapped'), 'the pass logs what it moved')
  t.notOk(logs.includes(pan) || logs.includes('730591') || logs.includes('480215') || logs.includes(`"${randomPin}"`), 'no PAN or PIN in the card vault log')
  for (const b of [before.chosen.pinb!.b, before.random.pinb!.b, (await opened(random)).pinb!.b]) t.notOk(logs.includes(b), 'no PIN block in the card vault log')
})
