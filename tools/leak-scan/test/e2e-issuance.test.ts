/// <reference lib="dom" />
// page.evaluate callbacks run in the browser, so this test file alone sees DOM types.
// End to end over real processes: cards (g0) -> proxy-internal (g1) -> processor (g2) -> card-vault (g3)
// -> keyvault (g4), with ledger and authorizations; the cardholder's browser (headless Chromium) opens
// the one-time reveal page at proxy-public (HTTPS); then the leak scanner checks every main-cluster
// table, the CDE tables outside ciphertext columns, Redis and every log for the PANs and CVV2s.
import t from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { REPO_ROOT, SERVICE_NODE_FLAGS } from '@cardplane/zones'
import { chromium, type Browser } from 'playwright-core'
import { Agent, fetch } from 'undici'
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { Redis } from 'ioredis'
import { deleteRedisKeys, freePort, startTestPlatform, TEST_KEYS, type TestPlatform } from '../src/platform.js'
import { leakScan } from '../src/scan.js'

const execFileP = promisify(execFile)
const BIN = '45399130'
let platform: TestPlatform
let cards: ServiceClient
let browser: Browser
let revealPort: number
let dir: string
const insecure = new Agent({ connect: { rejectUnauthorized: false } })

interface IssuedCard {
  cardId: string
  lastFour: string
  bin: string
  expiryMonth: number
  expiryYear: number
  accountId: string
}

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-'))
  const programsFile = join(dir, 'programs.json')
  await writeFile(
    programsFile,
    JSON.stringify({
      programs: [
        {
          id: 'e2e-debit-gb',
          name: 'E2E debit',
          scheme: 'visa',
          product: 'debit',
          country: 'GB',
          currency: 'GBP',
          bin: BIN,
          panLength: 16,
          accountRange: { start: '0000000', size: '10000000' },
          expiry: { validityMonths: 36 },
          serviceCode: '201',
          pin: { tryLimit: 3 },
          keys: { cvk: TEST_KEYS.cvk, pvk: TEST_KEYS.pvk, pvki: 1 },
        },
        {
          id: 'demo-debit-gb',
          name: 'Demo debit (test keys)',
          scheme: 'visa',
          product: 'debit',
          country: 'GB',
          currency: 'GBP',
          bin: '45399100',
          panLength: 16,
          accountRange: { start: '0000000', size: '10000000' },
          expiry: { validityMonths: 36 },
          serviceCode: '201',
          pin: { tryLimit: 3 },
          keys: { cvk: TEST_KEYS.cvk, pvk: TEST_KEYS.pvk, pvki: 1 },
        },
      ],
    }),
  )
  revealPort = await freePort()
  platform = await startTestPlatform({
    services: ['keyvault', 'card-vault', 'processor', 'proxy-internal', 'proxy-public', 'ledger', 'authorizations', 'cards'],
    prefix: 'e2e',
    env: {
      cards: { CARDS_PROGRAMS_FILE: programsFile, CARDS_REVEAL_BASE_URL: `https://127.0.0.1:${revealPort}` },
      'proxy-public': { PUBLIC_LINKS: '[]', PUBLIC_REVEAL_PORT: String(revealPort), PUBLIC_REVEAL_TLS_DIR: join(dir, 'tls') },
    },
  })
  cards = createServiceClient({ callee: 'cards', zoneMap: platform.zoneMap, svids: platform.workload('console'), baseUrl: platform.urls.cards!, timeoutMs: 30_000 })
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})

t.teardown(async () => {
  await browser?.close()
  await cards?.close()
  await platform?.stop()
  await insecure.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const pans: string[] = []
const cvv2s: string[] = []
let issued: IssuedCard[] = []

t.test('the test platform runs every service with the service Node.js flags, as pnpm start and the k8s manifests do', async (t) => {
  for (const name of ['keyvault', 'card-vault', 'processor', 'proxy-internal', 'proxy-public', 'ledger', 'authorizations', 'cards']) {
    const argv = (await readFile(`/proc/${platform.pid(name)}/cmdline`, 'utf8')).split('\0')
    for (const f of SERVICE_NODE_FLAGS) t.ok(argv.includes(f), `${name} runs with ${f}`)
  }
})

t.test('cards issues through proxy-internal; the main cluster gets card IDs and last four only', async (t) => {
  const r = await cards.request<{ cards: IssuedCard[] }>({ method: 'POST', path: '/v1/cards', body: { programId: 'e2e-debit-gb', customerId: 'cust_1', count: 5, cardholderName: 'ADA LOVELACE' } })
  issued = r.body.cards
  t.equal(issued.length, 5)
  t.notMatch(JSON.stringify(r.body), /\d{13,19}/)
  for (const c of issued) {
    t.match(c.cardId, /^card_[0-9a-z]{26}$/)
    t.equal(c.accountId, 'acct_cust_1_gbp')
  }
  const one = await cards.request<{ cardId: string; cde: { lastFour: string; status: string } }>({ method: 'GET', path: `/v1/cards/${issued[0]!.cardId}` })
  t.equal(one.body.cde.lastFour, issued[0]!.lastFour, 'CDE view through proxy-internal and the processor')
  t.equal(one.body.cde.status, 'active')
})

/** The HTTP status a service client call ended with: 200, or the status its error carries. */
const status = async (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => 200,
    (err: unknown) => (err as { context?: { statusCode?: number } }).context?.statusCode ?? 0,
  )

t.test('the processor CDE API only serves cards, relayed by proxy-internal', async (t) => {
  const asProxy = createServiceClient({ callee: 'processor', zoneMap: platform.zoneMap, svids: platform.workload('proxy-internal'), baseUrl: platform.urls.processor! })
  const asPublic = createServiceClient({ callee: 'processor', zoneMap: platform.zoneMap, svids: platform.workload('proxy-public'), baseUrl: platform.urls.processor! })
  t.teardown(async () => {
    await asProxy.close()
    await asPublic.close()
  })
  const path = `/v1/cde/cards/${issued[0]!.cardId}`
  const cardsId = platform.zoneMap.services.find((s) => s.name === 'cards')!.spiffeId
  const mfgId = platform.zoneMap.services.find((s) => s.name === 'manufacturing')!.spiffeId
  t.equal(await status(asProxy.request({ method: 'GET', path, headers: { 'x-cardplane-caller': cardsId } })), 200)
  t.equal(await status(asProxy.request({ method: 'GET', path, headers: { 'x-cardplane-caller': mfgId } })), 403, 'relayed for another service')
  t.equal(await status(asProxy.request({ method: 'GET', path })), 403, 'no relayed caller')
  t.equal(await status(asPublic.request({ method: 'GET', path, headers: { 'x-cardplane-caller': cardsId } })), 403, 'proxy-public may not use the main-cluster API')
})

t.test('reveal page in headless Chromium: PAN shown once, second load fails, security headers set', async (t) => {
  const card = issued[0]!
  const s = await cards.request<{ url: string; jsonUrl: string }>({ method: 'POST', path: `/v1/cards/${card.cardId}/reveal-sessions` })
  t.match(s.body.url, new RegExp(`^https://127\\.0\\.0\\.1:${revealPort}/reveal/rvl_`))
  const context = await browser.newContext({ ignoreHTTPSErrors: true })
  t.teardown(() => context.close())
  const page = await context.newPage()
  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  const res = await page.goto(s.body.url)
  t.equal(res?.status(), 200)
  const pan = (await page.textContent('#pan'))!.replace(/\s/g, '')
  const cvv2 = (await page.textContent('#cvv2'))!.trim()
  t.match(pan, /^\d{16}$/)
  t.ok(pan.startsWith(BIN))
  t.equal(pan.slice(-4), card.lastFour)
  t.match(cvv2, /^\d{3}$/)
  t.equal((await page.textContent('#expiry'))!.trim(), `${String(card.expiryMonth).padStart(2, '0')}/${String(card.expiryYear % 100).padStart(2, '0')}`)
  pans.push(pan)
  cvv2s.push(cvv2)
  const h = res!.headers()
  t.match(h['content-security-policy'], /default-src 'none'/)
  t.notMatch(h['content-security-policy'], /unsafe-inline|script-src/)
  t.match(h['cache-control'], /no-store/)
  t.equal(h['referrer-policy'], 'no-referrer')
  t.equal(h['x-frame-options'], 'DENY')
  t.equal(h['x-content-type-options'], 'nosniff')
  t.same(requests, [s.body.url], 'no other resource loaded (no third parties)')
  const font = await page.evaluate(() => getComputedStyle(document.querySelector('.pan')!).fontFamily)
  t.match(font, /monospace/, 'the inline style is allowed by its CSP hash (nothing else inline is)')
  // Second load of the same token.
  const again = await page.reload()
  t.equal(again?.status(), 404)
  t.equal(await page.locator('#pan').count(), 0, 'no PAN on the second load')
  t.match((await page.textContent('#gone')) ?? '', /invalid|expired|used/)
  t.match(again!.headers()['cache-control'], /no-store/)
})

t.test('JSON variant for machine clients, also one-time', async (t) => {
  for (const card of issued.slice(1)) {
    const s = await cards.request<{ jsonUrl: string }>({ method: 'POST', path: `/v1/cards/${card.cardId}/reveal-sessions` })
    const r = await fetch(s.body.jsonUrl, { dispatcher: insecure })
    t.equal(r.status, 200)
    t.match(r.headers.get('cache-control') ?? '', /no-store/)
    const body = (await r.json()) as { pan: string; cvv2: string; cardholderName?: string }
    t.equal(body.pan.slice(-4), card.lastFour)
    t.equal(body.cardholderName, 'ADA LOVELACE')
    pans.push(body.pan)
    cvv2s.push(body.cvv2)
    const second = await fetch(s.body.jsonUrl, { dispatcher: insecure })
    t.equal(second.status, 404)
  }
  t.equal(new Set(pans).size, 5)
})

const pins: string[] = []

t.test('PIN set page in headless Chromium: plain form, mismatch and weak PIN shown again without using the link, PIN set once, then revealed once', async (t) => {
  const card = issued[1]!
  const s = await cards.request<{ url: string }>({ method: 'POST', path: `/v1/cards/${card.cardId}/pin-sessions` })
  t.match(s.body.url, new RegExp(`^https://127\\.0\\.0\\.1:${revealPort}/pin/rvl_`))
  const context = await browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled: false })
  t.teardown(() => context.close())
  const page = await context.newPage()
  const origins = new Set<string>()
  page.on('request', (r) => origins.add(new URL(r.url()).origin))
  const res = await page.goto(s.body.url)
  t.equal(res?.status(), 200)
  const h = res!.headers()
  t.match(h['content-security-policy'], /default-src 'none'/)
  t.match(h['content-security-policy'], /form-action 'self'/, 'the form may post to this origin only')
  t.notMatch(h['content-security-policy'], /unsafe-inline|script-src/)
  t.match(h['cache-control'], /no-store/)
  t.equal(h['x-frame-options'], 'DENY')
  t.equal(await page.locator('script').count(), 0, 'no script on the page')
  t.equal(await page.getAttribute('#pin', 'type'), 'password')
  const submit = async (pin: string, confirm: string) => {
    await page.fill('#pin', pin)
    await page.fill('#confirm', confirm)
    const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('#submit')])
    await page.waitForLoadState()
    return answer
  }
  const pin = '7305914826'
  const mismatch = await submit(pin, '7305914827')
  t.equal(mismatch.status(), 422)
  t.match((await page.textContent('#error')) ?? '', /differ/)
  t.equal(await page.inputValue('#pin'), '', 'nothing typed is put back into the page')
  t.match(mismatch.headers()['content-security-policy'], /form-action 'self'/)
  const weak = await submit('1111111111', '1111111111')
  t.equal(weak.status(), 422)
  t.match((await page.textContent('#error')) ?? '', /too easy/)
  const ok = await submit(pin, pin)
  t.equal(ok.status(), 200)
  t.match((await page.textContent('#done')) ?? '', /no longer be used/)
  t.match(ok.headers()['cache-control'], /no-store/)
  pins.push(pin)
  // The same link again: the form shows (showing it does not touch the session) but submitting fails.
  await page.goto(s.body.url)
  const again = await submit('5820394716', '5820394716')
  t.equal(again.status(), 404)
  t.match((await page.textContent('#gone')) ?? '', /invalid|expired|used/)
  // PIN reveal: the PIN just set, once.
  const r = await cards.request<{ url: string }>({ method: 'POST', path: `/v1/cards/${card.cardId}/pin-reveal-sessions` })
  t.match(r.body.url, /\/pin-reveal\/rvl_/)
  const shown = await page.goto(r.body.url)
  t.equal(shown?.status(), 200)
  t.equal((await page.textContent('#pin'))?.trim(), pin, 'the PIN set on the page is the one revealed')
  t.match(shown!.headers()['content-security-policy'], /form-action 'none'/)
  t.match(shown!.headers()['cache-control'], /no-store/)
  const second = await page.reload()
  t.equal(second?.status(), 404)
  t.equal(await page.locator('#pin').count(), 0, 'no PIN on the second load')
  t.same([...origins], [new URL(s.body.url).origin], 'nothing loaded from any other origin')
})

t.test('PIN set / reveal JSON variants for machine clients', async (t) => {
  const card = issued[2]!
  const s = await cards.request<{ jsonUrl: string }>({ method: 'POST', path: `/v1/cards/${card.cardId}/pin-sessions` })
  t.match(s.body.jsonUrl, /\/pin\/rvl_[A-Za-z0-9_-]{43}\.json$/)
  const post = (body: unknown) =>
    fetch(s.body.jsonUrl, { method: 'POST', dispatcher: insecure, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const pin = '58203947'
  const mismatch = await post({ pin, confirm: '58203946' })
  t.equal(mismatch.status, 422)
  t.same(await mismatch.json(), { error: { code: 'pin_mismatch' } })
  const weak = await post({ pin: '98765432' })
  t.equal(weak.status, 422)
  t.same(await weak.json(), { error: { code: 'pin_weak' } })
  const ok = await post({ pin, confirm: pin })
  t.equal(ok.status, 200)
  t.match(ok.headers.get('cache-control') ?? '', /no-store/)
  t.same(await ok.json(), { pinSet: true })
  t.equal((await post({ pin: '58203948' })).status, 404, 'one PIN set per link')
  pins.push(pin)
  const r = await cards.request<{ jsonUrl: string }>({ method: 'POST', path: `/v1/cards/${card.cardId}/pin-reveal-sessions` })
  const shown = await fetch(r.body.jsonUrl, { dispatcher: insecure })
  t.equal(shown.status, 200)
  t.match(shown.headers.get('content-security-policy') ?? '', /default-src 'none'/)
  t.same(await shown.json(), { pin })
  t.equal((await fetch(r.body.jsonUrl, { dispatcher: insecure })).status, 404)
})

/** `pnpm cardplane ...` as an operator would run it: the CLI acts as `console` against this platform. */
const cli = (args: string[]) =>
  execFileP(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tools/cli/src/main.ts'), ...args], {
    env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: platform.spiffe.endpoint('console'), CARDPLANE_SERVICE_URLS: JSON.stringify(platform.urls) },
    cwd: REPO_ROOT,
  })

t.test('operator CLI and the dev bootstrap step work against the running platform', async (t) => {
  const out = await cli(['cards', 'issue', '--program', 'e2e-debit-gb', '--count', '3', '--json'])
  const list = (JSON.parse(out.stdout) as { cards: IssuedCard[] }).cards
  t.equal(list.length, 3)
  t.notMatch(out.stdout, /\d{13,19}/, 'the CLI prints no PAN')
  const text = await cli(['cards', 'issue', '--program', 'e2e-debit-gb'])
  t.match(text.stdout, /card_[0-9a-z]{26}\s+\d{4}\s+\d{2}\/\d{2}/)
  const rev = await cli(['cards', 'reveal', list[0]!.cardId])
  t.match(rev.stdout.trim(), new RegExp(`^https://127\\.0\\.0\\.1:${revealPort}/reveal/rvl_[A-Za-z0-9_-]{43}$`))
  const r = await fetch(`${rev.stdout.trim()}.json`, { dispatcher: insecure })
  const revealed = (await r.json()) as { pan: string; cvv2: string }
  t.equal(revealed.pan.slice(-4), list[0]!.lastFour)
  pans.push(revealed.pan)
  cvv2s.push(revealed.cvv2)
  const pinSetUrl = (await cli(['cards', 'pin-set', list[0]!.cardId])).stdout.trim()
  t.match(pinSetUrl, new RegExp(`^https://127\\.0\\.0\\.1:${revealPort}/pin/rvl_[A-Za-z0-9_-]{43}$`))
  const set = await fetch(`${pinSetUrl}.json`, { method: 'POST', dispatcher: insecure, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: '61940273' }) })
  t.equal(set.status, 200)
  pins.push('61940273')
  const pinRevealUrl = (await cli(['cards', 'pin-reveal', list[0]!.cardId])).stdout.trim()
  t.match(pinRevealUrl, new RegExp(`^https://127\\.0\\.0\\.1:${revealPort}/pin-reveal/rvl_[A-Za-z0-9_-]{43}$`))
  t.same(await (await fetch(`${pinRevealUrl}.json`, { dispatcher: insecure })).json(), { pin: '61940273' })
  await t.rejects(cli(['cards', 'issue', '--program', 'nope']), 'unknown program exits non-zero')
  const logs: string[] = []
  const stateDir = join(dir, 'state')
  const step = (await import(join(REPO_ROOT, 'tools/dev/src/bootstrap/30-demo-program.ts'))) as { default: (ctx: unknown) => Promise<void> }
  const ctx = { urls: platform.urls, stateDir, log: (m: string) => logs.push(m), spiffe: platform.spiffe, zoneMap: platform.zoneMap }
  await step.default(ctx)
  await step.default(ctx)
  t.match(logs[0], /demo program demo-debit-gb ready: demo card card_/)
  t.match(logs[1], /demo program demo-debit-gb ready \(demo card card_/, 'second run is a no-op')
})

t.test('an operator replaces the PAN index key: console -> proxy-internal -> processor -> card vault', async (t) => {
  const asVault = createServiceClient({ callee: 'card-vault', zoneMap: platform.zoneMap, svids: platform.workload('processor'), baseUrl: platform.urls['card-vault']! })
  const asProxy = createServiceClient({ callee: 'processor', zoneMap: platform.zoneMap, svids: platform.workload('proxy-internal'), baseUrl: platform.urls.processor! })
  const cardsViaProxy = createServiceClient({ callee: 'proxy-internal', zoneMap: platform.zoneMap, svids: platform.workload('cards'), baseUrl: platform.urls['proxy-internal']! })
  t.teardown(async () => {
    await asVault.close()
    await asProxy.close()
    await cardsViaProxy.close()
  })
  const path = '/v1/cde/admin/index-key/replace'
  const cardsId = platform.zoneMap.services.find((s) => s.name === 'cards')!.spiffeId
  const consoleId = platform.zoneMap.services.find((s) => s.name === 'console')!.spiffeId
  // Refusals first: they must change nothing.
  t.equal(await status(cardsViaProxy.request({ method: 'POST', path })), 403, 'proxy-internal refuses cards on the operator route')
  t.equal(await status(asProxy.request({ method: 'POST', path, headers: { 'x-cardplane-caller': cardsId } })), 403, 'the processor refuses it relayed for cards')
  t.equal(await status(asProxy.request({ method: 'POST', path })), 403, 'and with no relayed caller')

  t.ok(pans.length > 0, 'PANs revealed earlier in the run')
  const out = await cli(['cde', 'index-key-replace', '--json'])
  const replaced = JSON.parse(out.stdout) as { keyId: number; retiringKeyId: number }
  t.type(replaced.keyId, 'number')
  t.type(replaced.retiringKeyId, 'number')
  t.not(replaced.keyId, replaced.retiringKeyId, 'a new index key is active, the old one retiring')
  t.same(Object.keys(replaced).sort(), ['keyId', 'retiringKeyId'], 'key ids only')
  const again = await cli(['cde', 'index-key-replace']).then(
    () => undefined,
    (err: { code?: number; stderr?: string }) => err,
  )
  t.equal(again?.code, 1, 'a second replacement while one retires exits 1')
  t.match(again?.stderr, /proxy-internal answered 409: index_key_retiring/)
  // Cards indexed under the retiring key are still found by PAN.
  for (const pan of pans) {
    const r = await asVault.request<{ cardId: string }>({ method: 'POST', path: '/v1/resolve', body: { pan } })
    t.match(r.body.cardId, /^card_[0-9a-z]{26}$/)
  }
  // The audit trail names the operator's identity and the key ids, at the processor and the card vault.
  const processorLog = await readFile(join(platform.dir, 'processor.log'), 'utf8')
  const line = processorLog.split('\n').find((l) => l.includes('PAN index key replacement requested'))
  t.ok(line, 'the processor logged the request')
  t.match(JSON.parse(line ?? '{}'), { relayedCaller: consoleId, indexKeyId: replaced.keyId, retiringKeyId: replaced.retiringKeyId })
  t.match(await readFile(join(platform.dir, 'card-vault.log'), 'utf8'), /PAN index key replacement started/)
})

t.test('leak scan after the run: no PAN or CVV2 in main-cluster tables, CDE tables outside ciphertext, Redis or logs', async (t) => {
  t.equal(pans.length, 6, 'the scan looks for every revealed PAN')
  t.equal(pins.length, 3, 'and for every PIN set in the run')
  const db = platform.databases
  const report = await leakScan({
    pans,
    cvv2s,
    pins,
    databases: [
      { url: db.cards!, zone: 'main' },
      { url: db.ledger!, zone: 'main' },
      { url: db.authorizations!, zone: 'main' },
      { url: db['card-vault']!, zone: 'cde', ciphertextColumns: ['cards.record', 'data_keys.wrapped'] },
      { url: db.keyvault!, zone: 'cde' },
    ],
    redis: [{ url: 'redis://127.0.0.1:6379', pattern: `${platform.redisPrefix}*` }],
    logs: [platform.dir],
  })
  t.same(report.findings, [], 'nothing found')
  t.ok(report.scanned.rows > 10, `rows scanned: ${report.scanned.rows}`)
  t.ok(report.scanned.logLines > 20, `log lines scanned: ${report.scanned.logLines}`)
  // The scanner is not blind: the CDE record column does hold card data (encrypted), and scanning the
  // vault database without the ciphertext declaration must not find clear PANs either.
  const strict = await leakScan({ pans, pins, databases: [{ url: db['card-vault']!, zone: 'cde' }] })
  t.same(strict.findings, [], 'even ciphertext columns hold no clear PAN')
})

t.test('stop deletes the Redis keys of the run, which are under its own prefix', async (t) => {
  const redis = new Redis('redis://127.0.0.1:6379')
  t.teardown(() => redis.disconnect())
  // The processor's advice queue (BullMQ) keeps metadata that never expires.
  t.equal(await redis.exists(`${platform.redisPrefix}processor:bull:advices:meta`), 1, 'the processor keeps its keys under the run prefix')
  await platform.stop()
  t.equal(await deleteRedisKeys(platform.redisPrefix), 0, 'none left after stop')
})
