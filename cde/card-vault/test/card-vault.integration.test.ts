// Integration over real processes: the key service and the card vault run as child processes on real
// PostgreSQL; this test calls the card vault as the processor would (its own JWT-SVID).
import t from 'tap'
import { refusal } from './helpers.js'
import pg from 'pg'
import {
  applicationCryptogram,
  cryptogramData,
  cvv as computeCvv,
  encodePinBlock,
  encryptPinBlock,
  generateArqcProfile,
  iccMasterKey,
  sessionKey,
  verifyArqcProfile,
  type ArqcProfile,
} from '@cardplane/payment-crypto'
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { startTestPlatform, TEST_KEYS, type TestPlatform, testProgram } from '@cardplane/tool-leak-scan/platform'

const PROGRAM = testProgram('it-debit-gb', '45399120', '1000000')

interface Issued {
  cardId: string
  lastFour: string
  bin: string
  expiryMonth: number
  expiryYear: number
}
interface Revealed {
  cardId: string
  pan: string
  expiryMonth: number
  expiryYear: number
  cvv2: string
}

let platform: TestPlatform
let vault: ServiceClient

t.before(async () => {
  platform = await startTestPlatform({
    services: ['keyvault', 'card-vault'],
    prefix: 'cv_it',
    env: { 'card-vault': { CARD_VAULT_REWRAP_INTERVAL_MS: '300' } },
  })
  vault = createServiceClient({
    callee: 'card-vault',
    zoneMap: platform.zoneMap,
    svids: platform.workload('processor'),
    baseUrl: platform.urls['card-vault']!,
    timeoutMs: 20_000,
  })
})

t.teardown(async () => {
  await vault?.close()
  await platform?.stop()
})

const yymm = (c: { expiryMonth: number; expiryYear: number }): string =>
  `${String(c.expiryYear % 100).padStart(2, '0')}${String(c.expiryMonth).padStart(2, '0')}`

async function issue(count: number, extra: Record<string, unknown> = {}): Promise<Issued[]> {
  const r = await vault.request<{ cards: Issued[] }>({ method: 'POST', path: '/v1/cards', body: { program: PROGRAM, count, ...extra } })
  return r.body.cards
}

async function reveal(cardId: string): Promise<Revealed> {
  const s = await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${cardId}/sessions`, body: { kind: 'card' } })
  const r = await vault.request<Revealed>({ method: 'POST', path: '/v1/sessions/reveal', body: { token: s.body.token } })
  return r.body
}

async function verify(body: Record<string, unknown>): Promise<{ cardId: string; results: Record<string, string> }> {
  const r = await vault.request<{ cardId: string; results: Record<string, string> }>({ method: 'POST', path: '/v1/verify', body })
  return r.body
}

function pinBlock(pan: string, pin: string): string {
  return encryptPinBlock({ key: TEST_KEYS.zpkMaterial, clearBlock: encodePinBlock({ format: 0, pin, pan }), format: 0, pan })
}

const issuedPans = new Map<string, string>()

t.test('concurrent issuance: unique card IDs and PANs, no PAN in any answer', async (t) => {
  const batches = await Promise.all(Array.from({ length: 8 }, () => issue(5)))
  const cards = batches.flat()
  t.equal(cards.length, 40)
  t.equal(new Set(cards.map((c) => c.cardId)).size, 40, 'card IDs unique')
  for (const c of cards) {
    t.match(c.cardId, /^card_[0-9a-z]{26}$/)
    t.equal(c.bin, '453991')
  }
  t.notMatch(JSON.stringify(batches), /\d{13,19}/, 'issue answers carry no PAN-length digit run')
  const revealed = await Promise.all(cards.map((c) => reveal(c.cardId)))
  for (const [i, r] of revealed.entries()) {
    issuedPans.set(r.cardId, r.pan)
    t.equal(r.pan.slice(-4), cards[i]!.lastFour)
    t.ok(r.pan.startsWith(PROGRAM.bin))
  }
  t.equal(new Set(revealed.map((r) => r.pan)).size, 40, 'PANs unique')
})

t.test('a reveal session is redeemed once', async (t) => {
  const [card] = await issue(1)
  const s = await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${card!.cardId}/sessions`, body: {} })
  const first = await vault.request<Revealed>({ method: 'POST', path: '/v1/sessions/reveal', body: { token: s.body.token } })
  t.equal(first.body.cardId, card!.cardId)
  t.match(first.body.cvv2, /^\d{3}$/)
  t.same(await refusal(vault.request({ method: 'POST', path: '/v1/sessions/reveal', body: { token: s.body.token } })), {
    status: 404,
    code: 'reveal_session_invalid',
  })
})

t.test('PAN -> card ID through the keyed index; unknown PANs are not found', async (t) => {
  for (const [cardId, pan] of [...issuedPans].slice(0, 10)) {
    const r = await vault.request<{ cardId: string }>({ method: 'POST', path: '/v1/resolve', body: { pan } })
    t.equal(r.body.cardId, cardId)
  }
  t.equal((await refusal(vault.request({ method: 'POST', path: '/v1/resolve', body: { pan: '4539912099999990' } }))).status, 404)
})

t.test('CVV2, magstripe CVV and chip iCVV verified by the key service', async (t) => {
  const [cardId, pan] = [...issuedPans][0]!
  const card = await reveal(cardId)
  const exp = yymm(card)
  const ok = await verify({ pan, expiry: exp, cvv2: card.cvv2 })
  t.equal(ok.cardId, cardId)
  t.same(ok.results, { expiry: 'ok', cvv2: 'match', cvv: 'not_present', icvv: 'not_present', pin: 'not_present', arqc: 'not_present' })
  const wrong = String((Number(card.cvv2) + 1) % 1000).padStart(3, '0')
  t.equal((await verify({ pan, expiry: exp, cvv2: wrong })).results.cvv2, 'mismatch')
  t.equal((await verify({ pan, expiry: '2001', cvv2: card.cvv2 })).results.expiry, 'mismatch')
  // Track 2: PAN=YYMM SC PVKI(1) PVV(4) CVV(3)
  const magCvv = computeCvv({ cvk: TEST_KEYS.cvkMaterial, pan, expiry: exp, serviceCode: PROGRAM.serviceCode })
  const track2 = `${pan}=${exp}${PROGRAM.serviceCode}10000${magCvv}`
  t.equal((await verify({ pan, track2 })).results.cvv, 'match')
  const badTrack = `${pan}=${exp}${PROGRAM.serviceCode}10000${magCvv === '000' ? '001' : '000'}`
  t.equal((await verify({ pan, track2: badTrack })).results.cvv, 'mismatch')
  const icvv = computeCvv({ cvk: TEST_KEYS.cvkMaterial, pan, expiry: exp, serviceCode: '999' })
  const chip = await verify({ pan, track2: `${pan}=${exp}${PROGRAM.serviceCode}10000${icvv}`, emv: { '5F34': '00' } })
  t.equal(chip.results.icvv, 'match')
  t.equal(chip.results.cvv, 'not_present')
  t.equal(chip.results.expiry, 'ok')
  const magOnChip = await verify({ pan, track2, emv: { '5F34': '00' } })
  t.equal(magOnChip.results.icvv, magCvv === icvv ? 'match' : 'mismatch', 'a magstripe CVV does not pass as iCVV')
})

t.test('POST /v1/verify/batch: one result per item, in order, each what /v1/verify answers alone', async (t) => {
  const cards = await Promise.all([...issuedPans].slice(0, 3).map(async ([cardId, pan]) => ({ pan, card: await reveal(cardId) })))
  const [a, b, c] = cards as [(typeof cards)[number], (typeof cards)[number], (typeof cards)[number]]
  const wrong = String((Number(b.card.cvv2) + 1) % 1000).padStart(3, '0')
  const items = [
    { pan: a.pan, expiry: yymm(a.card), cvv2: a.card.cvv2 },
    { pan: b.pan, expiry: yymm(b.card), cvv2: wrong },
    { pan: '4539912099999990', cvv2: '123' },
    { pan: c.pan, expiry: '2001' },
  ]
  const r = await vault.request<{ results: { statusCode: number; result?: { cardId: string; results: Record<string, string> }; error?: { code: string } }[] }>({
    method: 'POST',
    path: '/v1/verify/batch',
    body: { items },
  })
  t.equal(r.body.results.length, 4)
  t.match(r.body.results[0], { statusCode: 200, result: { cardId: a.card.cardId, results: { cvv2: 'match', expiry: 'ok' } } })
  t.match(r.body.results[1], { statusCode: 200, result: { cardId: b.card.cardId, results: { cvv2: 'mismatch' } } })
  t.match(r.body.results[2], { statusCode: 404, error: { code: 'card_not_found' } })
  t.notOk(r.body.results[2]!.result)
  t.match(r.body.results[3], { statusCode: 200, result: { cardId: c.card.cardId, results: { expiry: 'mismatch' } } })
  for (const [i, item] of items.entries()) {
    if (r.body.results[i]!.statusCode !== 200) continue
    t.same(r.body.results[i]!.result, await verify(item), `item ${i} as /v1/verify answers it`)
  }
  t.notMatch(JSON.stringify(r.body), /\d{13,19}/, 'no PAN-length digit run in the answer')
  t.equal((await refusal(vault.request({ method: 'POST', path: '/v1/verify/batch', body: { items: [] } }))).status, 400)
  t.equal((await refusal(vault.request({ method: 'POST', path: '/v1/verify/batch', body: { items: [{ pan: 'x' }] } }))).status, 400)
})

t.test('PIN: chosen PIN via PIN block, PVV verify, try counter and lockout', async (t) => {
  // The chosen PIN reaches the vault only as a PIN block under a ZPK; the issuer sends it per card.
  const [probe] = await issue(1)
  const pan = (await reveal(probe!.cardId)).pan
  const s = await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${probe!.cardId}/sessions`, body: { kind: 'pin_set' } })
  await vault.request({
    method: 'POST',
    path: '/v1/sessions/pin',
    body: { token: s.body.token, pin: { zpkName: TEST_KEYS.zpk, pinBlock: pinBlock(pan, '4391'), pinBlockFormat: 0 } },
  })
  const good = { pan, pinBlock: pinBlock(pan, '4391'), pinBlockFormat: 0, zpkName: TEST_KEYS.zpk }
  const bad = { ...good, pinBlock: pinBlock(pan, '1111') }
  t.equal((await verify(good)).results.pin, 'match')
  t.equal((await verify(bad)).results.pin, 'mismatch')
  t.equal((await verify(good)).results.pin, 'match', 'a correct PIN resets the counter')
  t.equal((await verify(bad)).results.pin, 'mismatch')
  t.equal((await verify(bad)).results.pin, 'mismatch')
  t.equal((await verify(bad)).results.pin, 'tries_exceeded', 'third wrong PIN reaches the limit of 3')
  t.equal((await verify(good)).results.pin, 'locked', 'locked even with the right PIN')
  const view = await vault.request<{ pinLocked: boolean; pinSet: boolean }>({ method: 'GET', path: `/v1/cards/${probe!.cardId}` })
  t.same({ pinSet: view.body.pinSet, pinLocked: view.body.pinLocked }, { pinSet: true, pinLocked: true })
  // A random PIN at issuance: PVV stored, the PIN itself never leaves the key service.
  const [rnd] = await issue(1, { pin: { zpkName: TEST_KEYS.zpk } })
  const rv = await vault.request<{ pinSet: boolean }>({ method: 'GET', path: `/v1/cards/${rnd!.cardId}` })
  t.equal(rv.body.pinSet, true)
  const noPin = [...issuedPans][1]!
  t.equal((await verify({ ...good, pan: noPin[1], pinBlock: pinBlock(noPin[1], '4391') })).results.pin, 'not_set')
})

t.test('chip: ARQC verified by the key service (Visa CVN 18), ARPC returned; a wrong cryptogram is invalid', async (t) => {
  const chipProgram = { ...PROGRAM, id: 'it-chip-gb', bin: '45399121', imkAcName: TEST_KEYS.imk, arqcProfile: 'visa-cvn18' }
  const r = await vault.request<{ cards: Issued[] }>({ method: 'POST', path: '/v1/cards', body: { program: chipProgram, count: 1 } })
  const card = await reveal(r.body.cards[0]!.cardId)
  const tags = {
    '9F02': '000000001000',
    '9F03': '000000000000',
    '9F1A': '0826',
    '95': '0000000000',
    '5F2A': '0826',
    '9A': '261122',
    '9C': '00',
    '9F37': '1A2B3C4D',
    '82': '3900',
    '9F36': '0007',
    '9F10': '06011203A0B800',
  }
  const cdolData = cryptogramData({ profile: 'visa-cvn18', tags })
  const arqc = generateArqcProfile({ profile: 'visa-cvn18', imk: TEST_KEYS.imkMaterial, pan: card.pan, psn: '00', atc: '0007', cdolData })
  const emv = { ...tags, '9F26': arqc, '5F34': '00' }
  const ok = await vault.request<{ results: Record<string, string>; arpc?: string }>({ method: 'POST', path: '/v1/verify', body: { pan: card.pan, emv, csu: '00820000' } })
  t.equal(ok.body.results.arqc, 'valid')
  t.match(ok.body.arpc ?? '', /^[0-9A-F]{8}00820000$/, 'ARPC (method 2) ‖ CSU returned')
  const bad = { ...emv, '9F02': '000000009999' }
  t.equal((await verify({ pan: card.pan, emv: bad })).results.arqc, 'invalid', 'amount changed after the card signed it')
  t.equal((await verify({ pan: card.pan, emv: { ...emv, '9F36': '07' } })).results.arqc, 'invalid', 'malformed ATC')
  t.equal((await verify({ pan: [...issuedPans.values()][0]!, emv })).results.arqc, 'not_supported', 'program without chip keys')
})

/**
 * One card per scheme profile. The cryptogram is made here the way the card makes it, from
 * payment-crypto's primitives (ICC master key, session key, `applicationCryptogram` over
 * `cryptogramData`), independently of the key service's verifier: what the vault sends as the MAC
 * input must be exactly what the profile covers.
 */
const ARQC_CASES: {
  profile: ArqcProfile
  bin: string
  iad: string
  /** An IAD byte inside the MAC input, and (profiles that MAC part of it) one outside. */
  covered: number
  uncovered?: number
}[] = [
  // Visa CVN 10: length, DKI, CVN 0A, CVR (4 bytes incl. its length byte) — only the CVR is MACed.
  { profile: 'visa-cvn10', bin: '45399122', iad: '06010A03A0B000', covered: 4, uncovered: 1 },
  // Visa CVN 18 / 22: the whole IAD.
  { profile: 'visa-cvn18', bin: '45399123', iad: '06011203A0B800', covered: 1 },
  { profile: 'visa-cvn22', bin: '45399124', iad: '06011603A0B800', covered: 6 },
  // Mastercard CVN 16: DKI, CVN 10, CVR (6 bytes), DAC/IDN, counters — only the CVR is MACed.
  { profile: 'mc-cvn16', bin: '45399125', iad: '0110A00003220000000000000000000000FF', covered: 3, uncovered: 12 },
  // Mastercard CVN 17: the CVR and the counters (bytes 10-17).
  { profile: 'mc-cvn17', bin: '45399126', iad: '0111A00003220000000012345678000000FF', covered: 12, uncovered: 8 },
]

function cardCryptogram(profile: ArqcProfile, pan: string, tags: Record<string, string>): string {
  const data = cryptogramData({ profile, tags: tags as Parameters<typeof cryptogramData>[0]['tags'] })
  const visa = profile.startsWith('visa-')
  const iccMk = iccMasterKey({ imk: TEST_KEYS.imkMaterial, pan, psn: '00', option: profile === 'visa-cvn10' || !visa ? 'A' : 'B' })
  if (profile === 'visa-cvn10') return applicationCryptogram({ key: iccMk, data, padding: 1 })
  const key = sessionKey({ method: 'emv-common', iccMk, atc: tags['9F36']!, ...(visa ? {} : { un: tags['9F37']! }) })
  return applicationCryptogram({ key, data, padding: 2 })
}

function flipBit(hex: string, byte: number): string {
  const b = Buffer.from(hex, 'hex')
  b[byte] = b[byte]! ^ 0x01
  return b.toString('hex').toUpperCase()
}

t.test('ARQC per scheme profile: a card-made cryptogram verifies through the vault, a one-bit change does not', async (t) => {
  for (const c of ARQC_CASES) {
    const program = { ...PROGRAM, id: `it-arqc-${c.profile}`, bin: c.bin, imkAcName: TEST_KEYS.imk, arqcProfile: c.profile }
    const r = await vault.request<{ cards: Issued[] }>({ method: 'POST', path: '/v1/cards', body: { program, count: 1 } })
    const { pan } = await reveal(r.body.cards[0]!.cardId)
    const tags: Record<string, string> = {
      '9F02': '000000002500',
      '9F03': '000000000000',
      '9F1A': '0826',
      '95': '8000048000',
      '5F2A': '0826',
      '9A': '261205',
      '9C': '00',
      '9F37': '9BADBCAB',
      '82': '1980',
      '9F36': '002A',
      '9F10': c.iad,
    }
    const arqc = cardCryptogram(c.profile, pan, tags)
    const method1 = c.profile === 'visa-cvn10' || c.profile.startsWith('mc-')
    const extra = method1 ? { arc: '3030' } : { csu: '00820000' }
    const emv = { ...tags, '9F26': arqc, '5F34': '00' }
    const ok = await vault.request<{ results: Record<string, string>; arpc?: string }>({ method: 'POST', path: '/v1/verify', body: { pan, emv, ...extra } })
    t.equal(ok.body.results.arqc, 'valid', `${c.profile}: valid`)
    // Tag 91 = ARPC ‖ ARC (method 1) or ARPC ‖ CSU (method 2), the ARPC computed here independently.
    const expectArpc = (response: { arc: string } | { csu: string }): string => {
      const r = verifyArqcProfile({
        imk: TEST_KEYS.imkMaterial,
        profile: c.profile,
        pan,
        psn: '00',
        atc: tags['9F36']!,
        ...(c.profile.startsWith('mc-') ? { un: tags['9F37']! } : {}),
        cdolData: cryptogramData({ profile: c.profile, tags: tags as Parameters<typeof cryptogramData>[0]['tags'] }),
        arqc,
        ...response,
      })
      return `${r.arpc}${'arc' in response ? response.arc : response.csu}`
    }
    t.equal(ok.body.arpc, expectArpc(extra), `${c.profile}: tag 91 by ARPC method ${method1 ? 1 : 2} with the given ${method1 ? 'ARC' : 'CSU'}`)
    // Without an ARC/CSU the vault answers with an approval's (the processor sends tag 91 only with approvals).
    const approval = await vault.request<{ arpc?: string }>({ method: 'POST', path: '/v1/verify', body: { pan, emv } })
    t.equal(approval.body.arpc, expectArpc(method1 ? { arc: '3030' } : { csu: '00800000' }), `${c.profile}: approval ARC/CSU by default`)
    const iadFlip = { ...emv, '9F10': flipBit(c.iad, c.covered) }
    t.equal((await verify({ pan, emv: iadFlip })).results.arqc, 'invalid', `${c.profile}: one bit of a MACed IAD byte changed`)
    const amountFlip = { ...emv, '9F02': flipBit(tags['9F02']!, 5) }
    t.equal((await verify({ pan, emv: amountFlip })).results.arqc, 'invalid', `${c.profile}: one bit of the amount changed`)
    const arqcFlip = { ...emv, '9F26': flipBit(arqc, 7) }
    t.equal((await verify({ pan, emv: arqcFlip })).results.arqc, 'invalid', `${c.profile}: one bit of the cryptogram changed`)
    if (c.uncovered !== undefined) {
      const outside = { ...emv, '9F10': flipBit(c.iad, c.uncovered) }
      t.equal((await verify({ pan, emv: outside })).results.arqc, 'valid', `${c.profile}: IAD bytes the profile does not MAC do not matter`)
    }
  }
})

async function session(cardId: string, kind: 'card' | 'pin_set' | 'pin_reveal'): Promise<string> {
  const s = await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${cardId}/sessions`, body: { kind } })
  return s.body.token
}

async function pinSet(token: string, pin: unknown): Promise<{ cardId: string; pinSet: boolean }> {
  return (await vault.request<{ cardId: string; pinSet: boolean }>({ method: 'POST', path: '/v1/sessions/pin', body: { token, pin } })).body
}

async function pinReveal(token: string): Promise<{ cardId: string; pin: string }> {
  return (await vault.request<{ cardId: string; pin: string }>({ method: 'POST', path: '/v1/sessions/pin-reveal', body: { token } })).body
}

t.test('PIN set session: weak PINs refused without using the session, new PIN verifies, old one fails, try counter reset', async (t) => {
  const [card] = await issue(1, { pin: { zpkName: TEST_KEYS.zpk, pinBlock: '0000000000000000' } }).catch(() => [undefined])
  t.equal(card, undefined, 'a malformed PIN block at issuance is refused')
  const [c] = await issue(1)
  const pan = (await reveal(c!.cardId)).pan
  const tok = await session(c!.cardId, 'pin_set')
  for (const weak of ['1111', '1234', '9876', '1212']) {
    t.same(await refusal(pinSet(tok, weak)), { status: 400, code: 'pin_weak' }, `weak PIN ${weak} refused`)
  }
  t.same(await refusal(pinSet(tok, '123')), { status: 400, code: 'pin_format' }, 'too short (fifth refusal)')
  t.same(await refusal(pinSet(tok, '7305')), { status: 404, code: 'reveal_session_invalid' }, 'five refused attempts use the session up')
  const tokB = await session(c!.cardId, 'pin_set')
  for (const weak of ['00000000', '0123456789', '252525']) {
    t.same(await refusal(pinSet(tokB, weak)), { status: 400, code: 'pin_weak' }, `${weak.length}-digit weak PIN refused`)
  }
  t.same(await refusal(pinSet(tokB, '1234567890123')), { status: 400, code: 'pin_format' }, 'too long')

  const tok2 = await session(c!.cardId, 'pin_set')
  t.same(await refusal(pinSet(tok2, '2222')), { status: 400, code: 'pin_weak' })
  t.same(await pinSet(tok2, '730591'), { cardId: c!.cardId, pinSet: true }, 'a refused attempt did not use the session up')
  t.same(await refusal(pinSet(tok2, '730592')), { status: 404, code: 'reveal_session_invalid' }, 'single use')
  const good = { pan, pinBlock: pinBlock(pan, '730591'), pinBlockFormat: 0, zpkName: TEST_KEYS.zpk }
  t.equal((await verify(good)).results.pin, 'match', 'the new PIN verifies through /v1/verify')
  t.equal((await verify({ ...good, pinBlock: pinBlock(pan, '4826') })).results.pin, 'mismatch')
  t.equal((await verify({ ...good, pinBlock: pinBlock(pan, '4826') })).results.pin, 'mismatch')
  t.equal((await verify({ ...good, pinBlock: pinBlock(pan, '4826') })).results.pin, 'tries_exceeded')
  t.equal((await verify(good)).results.pin, 'locked')
  // Setting a PIN again (PIN block path, as a PIN pad would send it) clears the counter and the lock.
  const tok3 = await session(c!.cardId, 'pin_set')
  t.same(await refusal(pinSet(tok3, { zpkName: TEST_KEYS.zpk, pinBlock: pinBlock(pan, '5555'), pinBlockFormat: 0 })), { status: 400, code: 'pin_weak' }, 'a weak PIN inside a PIN block is refused too')
  await pinSet(tok3, { zpkName: TEST_KEYS.zpk, pinBlock: pinBlock(pan, '9042'), pinBlockFormat: 0 })
  const view = await vault.request<{ pinLocked: boolean; pinSet: boolean }>({ method: 'GET', path: `/v1/cards/${c!.cardId}` })
  t.same({ pinSet: view.body.pinSet, pinLocked: view.body.pinLocked }, { pinSet: true, pinLocked: false }, 'lock cleared')
  t.equal((await verify({ ...good, pinBlock: pinBlock(pan, '9042') })).results.pin, 'match', 'the newest PIN verifies')
  t.equal((await verify(good)).results.pin, 'mismatch', 'the previous PIN no longer does')
  const db = new pg.Pool({ connectionString: platform.databases['card-vault']!, max: 1 })
  t.teardown(() => db.end())
  const tries = await db.query<{ pin_tries: number }>('SELECT pin_tries FROM cards WHERE card_id = $1', [c!.cardId])
  t.equal(tries.rows[0]!.pin_tries, 1, 'counter restarted from zero at the PIN set (one failure since)')
})

t.test('PIN sessions: expiry, kind and card checks', async (t) => {
  const [c] = await issue(1)
  const db = new pg.Pool({ connectionString: platform.databases['card-vault']!, max: 1 })
  t.teardown(() => db.end())
  const tok = await session(c!.cardId, 'pin_set')
  await db.query(`UPDATE reveal_sessions SET expires_at = now() - interval '1 second' WHERE card_id = $1 AND kind = 'pin_set'`, [c!.cardId])
  t.same(await refusal(pinSet(tok, '730591')), { status: 404, code: 'reveal_session_invalid' }, 'expired')
  const reveal1 = await session(c!.cardId, 'card')
  t.same(await refusal(pinSet(reveal1, '730591')), { status: 404, code: 'reveal_session_invalid' }, 'a card reveal token is not a PIN-set token')
  t.same(await refusal(pinReveal(reveal1)), { status: 404, code: 'reveal_session_invalid' }, 'nor a PIN-reveal token')
  t.equal((await reveal(c!.cardId)).cardId, c!.cardId)
  t.same(await refusal(session('card_0000000000000000000000000a', 'pin_set')), { status: 404, code: 'card_not_found' }, 'unknown card')
  t.same(await refusal(session(c!.cardId, 'pin_reveal')), { status: 409, code: 'pin_not_revealable' }, 'no PIN to show on a card without one')
  t.same(await refusal(pinSet('rvl_' + 'A'.repeat(43), '730591')), { status: 404, code: 'reveal_session_invalid' }, 'unknown token')
})

t.test('PIN reveal: shows the PIN set before once; a random PIN from issuance can be shown and verifies', async (t) => {
  const [c] = await issue(1)
  const pan = (await reveal(c!.cardId)).pan
  await pinSet(await session(c!.cardId, 'pin_set'), '48150')
  const tok = await session(c!.cardId, 'pin_reveal')
  t.same(await pinReveal(tok), { cardId: c!.cardId, pin: '48150' })
  t.same(await refusal(pinReveal(tok)), { status: 404, code: 'reveal_session_invalid' }, 'once')
  // Chosen PIN block at issuance (ISO format 1: the PAN is not known before issuance): stored under the PIN storage key too.
  const format1 = encryptPinBlock({ key: TEST_KEYS.zpkMaterial, clearBlock: encodePinBlock({ format: 1, pin: '2468' }), format: 1 })
  const [chosen] = await issue(1, { pin: { zpkName: TEST_KEYS.zpk, pinBlock: format1, pinBlockFormat: 1 } })
  t.equal((await pinReveal(await session(chosen!.cardId, 'pin_reveal'))).pin, '2468', 'chosen PIN at issuance')
  // Random PIN: drawn by the key service, never seen by the vault in clear until a reveal.
  const [rnd] = await issue(1, { pin: { zpkName: TEST_KEYS.zpk } })
  const rndPan = (await reveal(rnd!.cardId)).pan
  const shown = (await pinReveal(await session(rnd!.cardId, 'pin_reveal'))).pin
  t.match(shown, /^\d{4}$/)
  const v = await verify({ pan: rndPan, pinBlock: pinBlock(rndPan, shown), pinBlockFormat: 0, zpkName: TEST_KEYS.zpk })
  t.equal(v.results.pin, 'match', 'the revealed random PIN is the one its PVV was made from')
  // The stored block is ciphertext under the key service's PIN storage key: the vault DB has no PIN.
  const db = new pg.Pool({ connectionString: platform.databases['card-vault']!, max: 1 })
  t.teardown(() => db.end())
  const rows = await db.query<{ t: string }>('SELECT row_to_json(r)::text AS t FROM reveal_sessions r')
  t.notOk(rows.rows.some((r) => r.t.includes('48150')), 'no PIN in session rows')
})

t.test('key service: only a PIN storage key (pek) gives a clear PIN back; a link ZPK never does', async (t) => {
  const root = platform.keyvaultRoot!
  const pan = '4539912010000004'
  const block = pinBlock(pan, '4826')
  const err = await root.write(`payments/pin/decrypt/${TEST_KEYS.zpk}`, { pin_block: block, pan, format: 0 }).then(
    () => undefined,
    (e: { response?: { statusCode?: number; body?: { errors?: string[] } } }) => e.response,
  )
  t.equal(err?.statusCode, 400)
  t.match(JSON.stringify(err?.body), /key_usage_violation|may not|usage/)
  const enc = await root.write(`payments/pin/encrypt/${TEST_KEYS.zpk}`, { pin: '4826', pan, format: 0 }).then(
    () => 200,
    (e: { response?: { statusCode?: number } }) => e.response?.statusCode,
  )
  t.equal(enc, 400, 'a clear PIN cannot be encrypted under a link ZPK either')
})

t.test('rotation: new data key after the KEK rotates, every record rewrapped while reads continue', async (t) => {
  const db = new pg.Pool({ connectionString: platform.databases['card-vault']!, max: 2 })
  t.teardown(() => db.end())
  const before = await db.query<{ dek_id: number }>('SELECT DISTINCT dek_id FROM cards')
  t.equal(before.rows.length, 1, 'all records under one data key before rotation')
  await platform.keyvaultRoot!.write(`transit/keys/${TEST_KEYS.recordsKek}/rotate`, {})
  const entries = [...issuedPans]
  let reads = 0
  let failures = 0
  let done = false
  const reader = (async () => {
    while (!done) {
      const [cardId, pan] = entries[reads % entries.length]!
      try {
        const v = await verify({ pan })
        if (v.cardId !== cardId) failures++
        await vault.request({ method: 'GET', path: `/v1/cards/${cardId}` })
      } catch {
        failures++
      }
      reads++
    }
  })()
  // Issue during the rotation too: new cards must land under the new key.
  await issue(5)
  const until = Date.now() + 20_000
  let spread: { dek_id: number; kek_version: number }[] = []
  while (Date.now() < until) {
    const r = await db.query<{ dek_id: number; kek_version: number }>(
      `SELECT DISTINCT c.dek_id, k.kek_version FROM cards c JOIN data_keys k ON k.id = c.dek_id`,
    )
    spread = r.rows
    if (spread.length === 1 && spread[0]!.kek_version === 2) break
    await new Promise((r2) => setTimeout(r2, 200))
  }
  done = true
  await reader
  t.same(spread.map((r) => r.kek_version), [2], 'every record sealed under a data key wrapped by KEK v2')
  // How many reads fit in the rewrap depends on the machine's speed (20 on a slow one), so the count is not the
  // check: the reader ran alongside the rotation from its start, and none of its reads failed.
  t.ok(reads > 0, `reads continued during the rewrap (${reads})`)
  t.equal(failures, 0, 'no read failed during rotation')
  const keys = await db.query<{ purpose: string; active: boolean; kek_version: number }>('SELECT purpose, active, kek_version FROM data_keys ORDER BY id')
  t.same(
    keys.rows.filter((k) => k.active).map((k) => [k.purpose, k.kek_version]).sort(),
    [
      ['index', 2],
      ['records', 2],
    ],
    'active records key under v2, index key rewrapped to v2',
  )
  const [cardId, pan] = entries[0]!
  t.equal((await verify({ pan })).cardId, cardId, 'PAN index unchanged by the rotation')
})

t.test('only group-2 callers: cards (group 0) and keyvault identities are refused', async (t) => {
  for (const svc of ['cards', 'proxy-internal', 'proxy-public']) {
    const c = createServiceClient({ callee: 'card-vault', zoneMap: platform.zoneMap, svids: platform.workload(svc), baseUrl: platform.urls['card-vault']! })
    t.equal((await refusal(c.request({ method: 'POST', path: '/v1/resolve', body: { pan: '4111111111111111' } }))).status, 403, svc)
    await c.close()
  }
})
