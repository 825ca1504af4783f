/**
 * The card vault's operations: issue, look up, verify, reveal, set PIN. Clear card data exists
 * here in memory only, for the duration of one call; it is sealed before it reaches the database
 * and never returned except by a redeemed reveal session.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import { PROFILE_LAYOUT, cryptogramInput, isArqcProfile } from '@cardplane/emv'
import { CardplaneError } from '@cardplane/service-kit'
import { newCardId } from '../domain/card-id.js'
import { openRecord, sealRecord } from '../domain/envelope.js'
import { expiryFor, expiryValid, parseYymm, yymm, type Expiry } from '../domain/expiry.js'
import { panForSequence, validateRange } from '../domain/pan-allocation.js'
import { hashRevealToken, isRevealToken, newRevealToken } from '../domain/reveal-token.js'
import type { DataKeyCache } from '../keys/data-key-cache.js'
import type { KeyService, PinBlockInput, StoredPinBlock } from '../keys/key-service.js'
import { PIN_SET_MAX_ATTEMPTS, pinRefusal } from '../domain/pin-policy.js'
import type { CardRow, CardStore, ProgramRow } from '../store/card-store.js'
import { cardNotFound, invalid, pinNotRevealable, pinRefused, programMismatch, rangeExhausted, revealInvalid } from './errors.js'
import type { ActiveKey, KeyManager } from './key-manager.js'
import { PanLookupBatcher } from './pan-lookup-batcher.js'

/** Clear contents of a sealed card record. */
interface CardRecord {
  pan: string
  /** YYMM */
  exp: string
  sc: string
  name?: string
  pvv?: string
  /**
   * The PIN as an ISO 9564 format 4 block under the key service's PIN storage key (`pek`): what PIN
   * reveal decrypts (through the key service). Absent on cards whose PIN the vault only knows by PVV.
   */
  pinb?: { k: string; b: string; v: number }
}

/** One batch of the PAN index re-keying ({@link CardVault.reindexBatch}). */
export interface IndexRewrapBatch {
  /** Rows read (0: nothing left after the cursor). */
  seen: number
  /** Rows moved to the active index key. */
  moved: number
  /** Rows left (changed meanwhile, or the new HMAC already taken). */
  left: number
  /** Cursor for the next batch. */
  last: string
}

/** One batch of the PIN storage key rotation pass ({@link CardVault.rewrapPinBatch}). */
export interface PinRewrapBatch {
  /** Cards looked at (0: nothing left after the cursor). */
  seen: number
  /** Blocks moved to the latest version (record resealed, column set). */
  moved: number
  /** Cards whose column was only filled in (block already current, or nothing the pass can move). */
  recorded: number
  /** Blocks the key service refused to move (left as they are). */
  refused: number
  /** Cursor for the next batch (the last card ID looked at). */
  last: string
}

/** Session kinds: card details reveal, PIN set, PIN reveal. */
export type SessionKind = 'card' | 'pin_set' | 'pin_reveal'

/** A chosen PIN at a PIN-set session: clear digits (the page's form, over TLS) or a PIN block under a ZPK. */
export type PinSetInput = { pin: string } | PinBlockInput

/** PIN at issuance: a chosen PIN as a PIN block under `zpkName`, or (no block) a random one. */
export interface IssuePin {
  zpkName: string
  pinBlock?: string
  pinBlockFormat?: number
}

/** What an issue request returns per card (no PAN). */
export interface IssuedCard {
  cardId: string
  programId: string
  bin: string
  lastFour: string
  expiryMonth: number
  expiryYear: number
}

/** Non-sensitive view of a card. */
export interface CardView extends IssuedCard {
  status: string
  pinSet: boolean
  pinLocked: boolean
  keyVersion: number
}

/** The sensitive envelope of one authorisation (see connectors' SensitiveEnvelopeData). */
export interface VerifyRequest {
  pan: string
  expiry?: string
  serviceCode?: string
  track2?: string
  cvv2?: string
  pinBlock?: string
  pinBlockFormat?: number
  zpkName?: string
  emv?: Record<string, string>
  /** ARC for an ARPC by method 1 (hex, Visa CVN 10, Mastercard), when the processor knows its answer. */
  arc?: string
  /** Card status update for an ARPC by method 2 (8 hex, Visa CVN 18/22). */
  csu?: string
}

type Check = 'match' | 'mismatch' | 'not_present'

/** Verification results (internal vocabulary; connectors map them to scheme codes). */
export interface VerifyResult {
  cardId: string
  lastFour: string
  programId: string
  cardStatus: string
  results: {
    expiry: 'ok' | 'expired' | 'mismatch' | 'not_present'
    cvv2: Check
    cvv: Check
    icvv: Check
    pin: Check | 'locked' | 'tries_exceeded' | 'not_set' | 'no_zpk'
    arqc: 'valid' | 'invalid' | 'not_present' | 'not_supported'
  }
  arpc?: string
}

/** What a redeemed card reveal session shows. */
export interface RevealedCard {
  cardId: string
  pan: string
  expiryMonth: number
  expiryYear: number
  cvv2: string
  cardholderName?: string
}

/** Options of the vault. */
export interface CardVaultOptions {
  revealTtlSeconds: number
  /** Key-service PIN storage key (`pek`) the PINs of PIN set / reveal are kept under. */
  pinKeyName?: string
  /** Track 2 discretionary data layout: PVKI(1) PVV(4) CVV(3) — position of the CVV. */
  now?: () => Date
}


/** Card vault core. */
export class CardVault {
  private readonly now: () => Date
  /** Programs never change once stored (a changed definition is refused), so they are cached. */
  private readonly programs = new Map<string, ProgramRow>()

  constructor(
    private readonly store: CardStore,
    private readonly keys: KeyService,
    private readonly dataKeys: DataKeyCache,
    private readonly keyManager: KeyManager,
    private readonly opts: CardVaultOptions,
  ) {
    this.now = opts.now ?? (() => new Date())
    this.pinKey = opts.pinKeyName ?? 'pin-storage'
    this.panLookups = new PanLookupBatcher(store)
  }

  /** PAN-index lookups of verify/resolve, batched into one query per event-loop turn. */
  private readonly panLookups: PanLookupBatcher
  /** The index key last used as a KeyObject (one import per key, not one per HMAC). */
  private indexKeyObject: { raw: Buffer; key: KeyObject } | undefined
  /** KeyObjects of other index keys (the retiring one while a replacement runs). */
  private readonly indexKeyObjects = new WeakMap<Buffer, KeyObject>()

  private readonly pinKey: string

  /** Register (or confirm) a program; a changed range or key name is a conflict, never silently applied. */
  async ensureProgram(p: ProgramRow): Promise<ProgramRow> {
    try {
      validateRange({ bin: p.bin, panLength: p.panLength, accountStart: p.accountStart, size: p.rangeSize })
    } catch (err) {
      throw invalid('program_invalid', (err as Error).message)
    }
    const stored = await this.store.upsertProgram(p)
    this.programs.delete(p.id)
    const same =
      stored.bin === p.bin &&
      stored.panLength === p.panLength &&
      stored.accountStart === p.accountStart &&
      stored.rangeSize === p.rangeSize &&
      stored.cvkName === p.cvkName &&
      stored.pvkName === p.pvkName
    if (!same) throw programMismatch(p.id)
    return stored
  }

  private async program(id: string): Promise<ProgramRow | undefined> {
    const hit = this.programs.get(id)
    if (hit) return hit
    const row = await this.store.getProgram(id)
    if (row) this.programs.set(id, row)
    return row
  }

  /** Keyed HMAC of a PAN under the index key (memory-only key from the key service). */
  async panHmac(pan: string): Promise<{ hmac: Buffer; keyId: number }> {
    const active = this.keyManager.indexKeyNow() ?? (await this.keyManager.indexKey())
    return { hmac: this.hmacUnder(active, pan), keyId: active.id }
  }

  private hmacUnder(active: ActiveKey, pan: string): Buffer {
    if (this.indexKeyObject?.raw !== active.key) {
      let key = this.indexKeyObjects.get(active.key)
      if (!key) this.indexKeyObjects.set(active.key, (key = createSecretKey(active.key)))
      this.indexKeyObject = { raw: active.key, key }
    }
    return createHmac('sha256', this.indexKeyObject.key).update(pan, 'utf8').digest()
  }

  /**
   * The card of a PAN through the index: under the active index key, and when nothing is found while a
   * replaced index key is retiring (cards not re-indexed yet), under that one. (verify does the same inline,
   * so that its found-at-once path has no extra await.)
   */
  private async findByPan(active: ActiveKey, pan: string): Promise<CardRow | undefined> {
    const row = await this.panLookups.find(this.hmacUnder(active, pan))
    if (row) return row
    const retiring = this.keyManager.retiringIndexKeyNow()
    return retiring ? this.panLookups.find(this.hmacUnder(retiring, pan)) : undefined
  }

  /** Issue `count` cards of a program. Optional chosen PIN applies to every card of the call. */
  async issue(programId: string, req: { count: number; cardholderName?: string; pin?: IssuePin }): Promise<IssuedCard[]> {
    const program = await this.program(programId)
    if (!program) throw invalid('program_unknown', 'unknown program')
    const out: IssuedCard[] = []
    let attempts = 0
    while (out.length < req.count) {
      const need = req.count - out.length
      const first = await this.store.reserveSequences(program.id, need)
      if (first === undefined) throw rangeExhausted(program.id)
      const range = { bin: program.bin, panLength: program.panLength, accountStart: program.accountStart, size: program.rangeSize }
      // Cards of one request are independent: seal and insert them concurrently.
      const stored = await Promise.all(
        Array.from({ length: need }, (_, i) => this.storeNewCard(program, panForSequence(range, first + BigInt(i)), req.cardholderName, req.pin)),
      )
      for (const card of stored) {
        if (card) out.push(card)
        // A PAN already in the index (another program sharing the BIN) burns the number; the loop takes the next.
        else if (++attempts > 1000) throw rangeExhausted(program.id)
      }
    }
    return out
  }

  private async storeNewCard(program: ProgramRow, pan: string, name?: string, pin?: IssuePin): Promise<IssuedCard | undefined> {
    const expiry = expiryFor(this.now(), program.validityMonths)
    const record: CardRecord = { pan, exp: yymm(expiry), sc: program.serviceCode }
    if (name) record.name = name
    if (pin?.pinBlock !== undefined) {
      const block = { zpkName: pin.zpkName, pinBlock: pin.pinBlock, pinBlockFormat: pin.pinBlockFormat ?? 0 }
      const [pvv, stored] = await Promise.all([
        this.keys.pvv({ pvkName: program.pvkName, pvki: program.pvki, pan, ...block }),
        this.keys.translatePinToStorage({ ...block, pan, pekName: this.pinKey }),
      ])
      record.pvv = pvv
      record.pinb = storedPin(stored)
    } else if (pin) {
      // A random PIN drawn by the key service, kept only as a block under the PIN storage key.
      const r = await this.keys.pvvRandomPinStored({ pvkName: program.pvkName, pvki: program.pvki, pan, pekName: this.pinKey })
      record.pvv = r.pvv
      record.pinb = storedPin(r)
    }
    const cardId = newCardId()
    const { hmac, keyId } = await this.panHmac(pan)
    // While an index key is retiring, a PAN already indexed under it is taken too (burnt like a collision).
    const retiring = this.keyManager.retiringIndexKeyNow()
    if (retiring && (await this.store.findByPanHmac(this.hmacUnder(retiring, pan)))) return undefined
    const dek = await this.keyManager.recordKey()
    const sealed = sealRecord(dek.key, cardId, Buffer.from(JSON.stringify(record), 'utf8'))
    const ok = await this.store.insertCard({
      cardId,
      programId: program.id,
      panHmac: hmac,
      indexKeyId: keyId,
      lastFour: pan.slice(-4),
      bin: pan.slice(0, 6),
      pinSet: record.pvv !== undefined,
      dekId: dek.id,
      record: sealed,
      pinKeyVersion: this.pinKeyColumn(record),
    })
    if (!ok) return undefined
    return { cardId, programId: program.id, bin: pan.slice(0, 6), lastFour: pan.slice(-4), expiryMonth: expiry.month, expiryYear: expiry.year }
  }

  private async open(row: CardRow): Promise<CardRecord> {
    return openWith(await this.dataKeys.get(row.dekId), row)
  }

  private async mustGet(cardId: string): Promise<CardRow> {
    const row = await this.store.getCard(cardId)
    if (!row) throw cardNotFound()
    return row
  }

  /** Non-sensitive view of a card (expiry comes out of the sealed record). */
  async getCard(cardId: string): Promise<CardView> {
    const row = await this.mustGet(cardId)
    const rec = await this.open(row)
    const exp = parseYymm(rec.exp) as Expiry
    const dek = await this.store.dataKeyById(row.dekId)
    return {
      cardId: row.cardId,
      programId: row.programId,
      bin: row.bin,
      lastFour: row.lastFour,
      expiryMonth: exp.month,
      expiryYear: exp.year,
      status: row.status,
      pinSet: row.pinSet,
      pinLocked: row.pinLocked,
      keyVersion: dek?.kekVersion ?? 0,
    }
  }

  /** PAN -> card ID through the keyed index; undefined when unknown. */
  async resolve(pan: string): Promise<string | undefined> {
    if (!/^\d{12,19}$/.test(pan)) return undefined
    return (await this.findByPan(this.keyManager.indexKeyNow() ?? (await this.keyManager.indexKey()), pan))?.cardId
  }

  /** Verify one authorisation's sensitive data. Returns the card ID and results, never the PAN. */
  async verify(req: VerifyRequest): Promise<VerifyResult> {
    if (typeof req.pan !== 'string' || !/^\d{12,19}$/.test(req.pan)) throw invalid('pan_invalid', 'PAN is malformed')
    // Index key, program and data key are in memory after the first verifications: no wait for them.
    let row = await this.panLookups.find(this.hmacUnder(this.keyManager.indexKeyNow() ?? (await this.keyManager.indexKey()), req.pan))
    if (!row) {
      // Not under the active index key: while a replaced key is retiring, the card may not be re-indexed yet.
      const retiring = this.keyManager.retiringIndexKeyNow()
      if (retiring) row = await this.panLookups.find(this.hmacUnder(retiring, req.pan))
    }
    if (!row) throw cardNotFound()
    const program = this.programs.get(row.programId) ?? (await this.program(row.programId))
    if (!program) throw cardNotFound()
    const rec = openWith(this.dataKeys.peek(row.dekId) ?? (await this.dataKeys.get(row.dekId)), row)
    if (rec.pan !== req.pan) throw cardNotFound()
    const cardExp = parseYymm(rec.exp) as Expiry
    const results: VerifyResult['results'] = {
      expiry: 'not_present',
      cvv2: 'not_present',
      cvv: 'not_present',
      icvv: 'not_present',
      pin: 'not_present',
      arqc: 'not_present',
    }
    let presentedExpiry = req.expiry
    let trackCvv: string | undefined
    if (req.track2) {
      const [, rest = ''] = req.track2.split(/[=D]/)
      presentedExpiry ??= rest.slice(0, 4)
      // Discretionary data of our cards: PVKI(1) PVV(4) CVV(3) after expiry and service code.
      trackCvv = rest.slice(12, 15) || undefined
    }
    if (presentedExpiry) {
      if (presentedExpiry !== rec.exp) results.expiry = 'mismatch'
      else results.expiry = expiryValid(cardExp, this.now()) ? 'ok' : 'expired'
    }
    const checks: Promise<void>[] = []
    if (req.cvv2) {
      const cvv2 = req.cvv2
      checks.push(
        this.keys
          .verifyCvv({ cvkName: program.cvkName, kind: 'cvv2', pan: rec.pan, expiry: rec.exp, cvv: cvv2 })
          .then((ok) => void (results.cvv2 = ok ? 'match' : 'mismatch')),
      )
    }
    if (trackCvv) {
      const chip = req.emv !== undefined
      checks.push(
        this.keys
          .verifyCvv({ cvkName: program.cvkName, kind: chip ? 'icvv' : 'cvv', pan: rec.pan, expiry: rec.exp, serviceCode: rec.sc, cvv: trackCvv })
          .then((ok) => {
            if (chip) results.icvv = ok ? 'match' : 'mismatch'
            else results.cvv = ok ? 'match' : 'mismatch'
          }),
      )
    }
    let arpc: string | undefined
    const emv = req.emv
    if (emv?.['9F26']) {
      if (!program.imkAcName || !program.arqcProfile) results.arqc = 'not_supported'
      else {
        const imkName = program.imkAcName
        const profile = program.arqcProfile
        const cdolData = arqcData(profile, emv)
        const atc = emv['9F36']
        const arpcResponse = arpcResponseFor(profile, req)
        if (!cdolData || !atc || atc.length !== 4 || emv['9F26'].length !== 16) results.arqc = 'invalid'
        else checks.push(
          this.keys
            .verifyArqc({
              imkName,
              profile,
              pan: rec.pan,
              panSequence: (emv['5F34'] ?? '00').slice(-2),
              cdolData,
              arqc: emv['9F26'],
              atc,
              ...(profile.startsWith('mc-') && emv['9F37'] ? { un: emv['9F37'] } : {}),
              ...arpcResponse,
            })
            .then((r) => {
              results.arqc = r.ok ? 'valid' : 'invalid'
              if (r.ok && r.arpc) arpc = issuerAuthenticationData(r.arpc, arpcResponse)
            }),
        )
      }
    }
    await Promise.all(checks)
    if (req.pinBlock) results.pin = await this.verifyPin(row, program, rec, req)
    return {
      cardId: row.cardId,
      lastFour: row.lastFour,
      programId: row.programId,
      cardStatus: row.status,
      results,
      ...(arpc ? { arpc } : {}),
    }
  }

  private async verifyPin(row: CardRow, program: ProgramRow, rec: CardRecord, req: VerifyRequest): Promise<VerifyResult['results']['pin']> {
    if (!rec.pvv) return 'not_set'
    if (row.pinLocked) return 'locked'
    if (!req.zpkName || !req.pinBlock) return 'no_zpk'
    const ok = await this.keys.verifyPin({
      zpkName: req.zpkName,
      pinBlock: req.pinBlock,
      pinBlockFormat: req.pinBlockFormat ?? 0,
      pan: rec.pan,
      pvkName: program.pvkName,
      pvki: program.pvki,
      pvv: rec.pvv,
    })
    if (ok) {
      await this.store.resetPinTries(row.cardId)
      return 'match'
    }
    const state = await this.store.recordPinFailure(row.cardId, program.pinTryLimit)
    return state.locked ? 'tries_exceeded' : 'mismatch'
  }

  /**
   * A one-time session for a card (`card`: reveal PAN/expiry/CVV2; `pin_set`: choose a PIN;
   * `pin_reveal`: show the PIN once — refused up front when the vault holds no stored PIN block).
   */
  async createSession(cardId: string, kind: SessionKind): Promise<{ token: string; expiresAt: Date }> {
    const row = await this.mustGet(cardId)
    if (kind === 'pin_reveal' && !(await this.open(row)).pinb) throw pinNotRevealable()
    const { token, hash } = newRevealToken()
    const expiresAt = await this.store.createRevealSession(hash, cardId, kind, this.opts.revealTtlSeconds)
    return { token, expiresAt }
  }

  /** Redeem a reveal session once and return the card details (CVV2 derived now, never stored). */
  async redeemReveal(token: string): Promise<RevealedCard> {
    if (!isRevealToken(token)) throw revealInvalid()
    const cardId = await this.store.redeemRevealSession(hashRevealToken(token), 'card')
    if (!cardId) throw revealInvalid()
    const row = await this.mustGet(cardId)
    const program = await this.program(row.programId)
    if (!program) throw cardNotFound()
    const rec = await this.open(row)
    const exp = parseYymm(rec.exp) as Expiry
    const cvv2 = await this.keys.cvv({ cvkName: program.cvkName, kind: 'cvv2', pan: rec.pan, expiry: rec.exp })
    return { cardId, pan: rec.pan, expiryMonth: exp.month, expiryYear: exp.year, cvv2, ...(rec.name ? { cardholderName: rec.name } : {}) }
  }

  /**
   * Redeem a PIN-set session. The PIN is checked first (4-12 digits, not guessable: domain/pin-policy.ts);
   * a refused PIN does not use the session up — the cardholder types another — until the
   * {@link PIN_SET_MAX_ATTEMPTS}th refusal. An accepted PIN redeems the session (one conditional UPDATE,
   * so two concurrent submissions cannot both set a PIN), then the PVV is computed by the key service,
   * the PIN is stored as a block under the PIN storage key, both sealed into the record, and the try
   * counter and lock are cleared. A failure after redemption (key service down) leaves the session
   * used: the cardholder asks for a new link. A clear PIN is never stored, logged or returned.
   */
  async redeemPinSet(token: string, input: PinSetInput): Promise<{ cardId: string }> {
    if (!isRevealToken(token)) throw revealInvalid()
    const hash = hashRevealToken(token)
    const cardId = await this.store.peekSession(hash, 'pin_set')
    if (!cardId) throw revealInvalid()
    const row = await this.mustGet(cardId)
    const rec = await this.open(row)
    // The PIN as a block under the storage key, and in clear for the policy check only.
    let stored: StoredPinBlock | undefined
    let pin: string
    if ('pin' in input) pin = input.pin
    else {
      stored = await this.keys.translatePinToStorage({ ...input, pan: rec.pan, pekName: this.pinKey })
      pin = await this.keys.decryptPin({ ...stored, pan: rec.pan })
    }
    const refusal = pinRefusal(pin)
    if (refusal) {
      const left = await this.store.refuseSessionAttempt(hash, 'pin_set', PIN_SET_MAX_ATTEMPTS)
      if (left === undefined) throw revealInvalid()
      throw pinRefused(refusal, left)
    }
    if ((await this.store.redeemRevealSession(hash, 'pin_set')) !== cardId) throw revealInvalid()
    stored ??= await this.keys.encryptPin({ pekName: this.pinKey, pan: rec.pan, pin })
    await this.setPin(cardId, stored)
    return { cardId }
  }

  /** Redeem a PIN-reveal session once: the stored PIN block is decrypted by the key service, shown once. */
  async redeemPinReveal(token: string): Promise<{ cardId: string; pin: string }> {
    if (!isRevealToken(token)) throw revealInvalid()
    const cardId = await this.store.redeemRevealSession(hashRevealToken(token), 'pin_reveal')
    if (!cardId) throw revealInvalid()
    const rec = await this.open(await this.mustGet(cardId))
    if (!rec.pinb) throw pinNotRevealable()
    const pin = await this.keys.decryptPin({ pekName: rec.pinb.k, pinBlock: rec.pinb.b, keyVersion: rec.pinb.v, pan: rec.pan })
    return { cardId, pin }
  }

  /**
   * Set (or reset) a card's PIN from its block under the PIN storage key: PVV from the key service
   * (the same PVV path issuance uses), PVV and block sealed into the record, try counter and lock cleared.
   */
  async setPin(cardId: string, stored: StoredPinBlock): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await this.mustGet(cardId)
      const program = await this.program(row.programId)
      if (!program) throw cardNotFound()
      const rec = await this.open(row)
      rec.pvv = await this.keys.pvv({
        pvkName: program.pvkName,
        pvki: program.pvki,
        pan: rec.pan,
        zpkName: stored.pekName,
        pinBlock: stored.pinBlock,
        pinBlockFormat: 4,
      })
      rec.pinb = storedPin(stored)
      const dek = await this.keyManager.recordKey()
      const sealed = sealRecord(dek.key, cardId, Buffer.from(JSON.stringify(rec), 'utf8'))
      const pinKeyVersion = this.pinKeyColumn(rec) ?? 0
      if (await this.store.replaceRecord(cardId, row, dek.id, sealed, { pinSet: true, resetPin: true, pinKeyVersion })) return
    }
    throw new Error('card record kept changing while setting the PIN')
  }

  /**
   * Move card records sealed under older data keys to the active one, in batches; reads keep working
   * throughout because a row is always self-consistent (record and dek_id change in one UPDATE).
   * Returns the number of records moved.
   */
  async rewrapBatch(limit = 500): Promise<number> {
    const active = await this.keyManager.recordKey()
    const rows = await this.store.cardsNotUnder(active.id, limit)
    let moved = 0
    for (const row of rows) {
      const old = await this.dataKeys.get(row.dekId)
      const clear = openRecord(old, row.cardId, row.record)
      const sealed = sealRecord(active.key, row.cardId, clear)
      clear.fill(0)
      if (await this.store.replaceRecord(row.cardId, row, active.id, sealed)) moved++
    }
    return moved
  }

  /**
   * One batch of the PAN index re-keying (after an index key replacement): cards indexed under another key
   * than the active index key, in card ID order after `after`. Each record is opened for its PAN, the PAN
   * hashed under the active key, and HMAC and key id written in one UPDATE only while the row is still
   * under the key it was read under. `left`: rows changed meanwhile, or whose new HMAC is already taken.
   * `seen` 0: done. Nothing of the PAN or the HMAC leaves this method.
   */
  async reindexBatch(active: ActiveKey, after = '', limit = 200): Promise<IndexRewrapBatch> {
    const rows = await this.store.cardsUnderIndexKeys(await this.store.otherIndexKeyIds(active.id), after, limit)
    let moved = 0
    let left = 0
    for (const row of rows) {
      const rec = openWith(await this.dataKeys.get(row.dekId), row)
      if (await this.store.reindexCard(row.cardId, row.indexKeyId, active.id, this.hmacUnder(active, rec.pan))) moved++
      else left++
    }
    return { seen: rows.length, moved, left, last: rows.at(-1)?.cardId ?? after }
  }

  /**
   * The `cards.pin_key_version` value of a record: the PIN storage key version its block is under; 0 when
   * there is a PIN the rotation pass cannot move (PVV only, a block under another key than the configured
   * one, or of unknown version); null without a PIN.
   */
  private pinKeyColumn(rec: CardRecord): number | null {
    if (rec.pinb) return rec.pinb.k === this.pinKey && rec.pinb.v >= 1 ? rec.pinb.v : 0
    return rec.pvv !== undefined ? 0 : null
  }

  /** The PIN storage key version new blocks are written under (the target of {@link rewrapPinBatch}). */
  async latestPinKeyVersion(): Promise<number> {
    return this.keys.latestPinKeyVersion(this.pinKey)
  }

  /**
   * One batch of the rotation pass over stored PIN blocks: cards whose block is under a PIN storage key
   * version below `latest` (or not known yet: rows written before `cards.pin_key_version`) in card ID order
   * after `after`. Each record is opened, its block moved by the key service (`payments/pin/rewrap`, the
   * PIN never comes out) and the record resealed under the active data key; record, data key and
   * `pin_key_version` are written in one UPDATE only if the row is unchanged since it was read, so a PIN set
   * meanwhile is never overwritten (that card is left; its new block is under the latest version anyway).
   * Rows of unknown version whose block is already current only get the column filled in. A block the key
   * service refuses (4xx) is counted in `refused` and left. `seen` 0: done.
   */
  async rewrapPinBatch(latest: number, after = '', limit = 200): Promise<PinRewrapBatch> {
    const rows = await this.store.cardsWithPinBelow(latest, after, limit)
    let moved = 0
    let recorded = 0
    let refused = 0
    for (const row of rows) {
      const rec = openWith(await this.dataKeys.get(row.dekId), row)
      const now = this.pinKeyColumn(rec) ?? 0
      if (now === 0 || now >= latest || !rec.pinb) {
        // Nothing to move (already current, PVV only, another key): record what the record holds.
        if (await this.store.replacePinRecord(row.cardId, row, row.dekId, row.record, now)) recorded++
        continue
      }
      let stored: StoredPinBlock
      try {
        stored = await this.keys.rewrapPin({ pekName: rec.pinb.k, pinBlock: rec.pinb.b, keyVersion: rec.pinb.v, pan: rec.pan })
      } catch (err) {
        // Refused for this block (e.g. its version is already below min_decryption_version): leave the
        // card and go on with the others; the key service being unavailable ends the pass.
        if (err instanceof CardplaneError && !err.retry) {
          refused++
          continue
        }
        throw err
      }
      rec.pinb = storedPin(stored)
      const dek = await this.keyManager.recordKey()
      const sealed = sealRecord(dek.key, row.cardId, Buffer.from(JSON.stringify(rec), 'utf8'))
      if (await this.store.replacePinRecord(row.cardId, row, dek.id, sealed, this.pinKeyColumn(rec) ?? 0)) moved++
    }
    return { seen: rows.length, moved, recorded, refused, last: rows.at(-1)?.cardId ?? after }
  }
}

/** ARC of an approval for ARPC method 1 (ASCII "00"). */
export const APPROVAL_ARC = '3030'
/**
 * CSU of an approval for ARPC method 2 (Visa CVN 18/22): byte 2 bit 8 "issuer approves online", nothing else
 * updated. From public descriptions of VIS 1.5; to check against the Visa Integrated Circuit Card spec.
 */
export const APPROVAL_CSU = '00800000'

/**
 * What the ARPC answers: the caller's ARC/CSU, or an approval. The ARPC is computed while the card is
 * verified, before the main cluster decides, so it always carries an approval; the processor sends it only
 * with approvals (a declined chip card finds no issuer authentication data and declines).
 */
export function arpcResponseFor(profile: string, req: { arc?: string; csu?: string }): { arc: string } | { csu: string } {
  if (isArqcProfile(profile) && PROFILE_LAYOUT[profile].arpcMethod === 2) return { csu: req.csu ?? APPROVAL_CSU }
  return { arc: req.arc ?? APPROVAL_ARC }
}

/** DE 55 tag 91 (issuer authentication data): ARPC ‖ ARC (method 1) or ARPC ‖ CSU (method 2). */
export function issuerAuthenticationData(arpc: string, response: { arc: string } | { csu: string }): string {
  return `${arpc}${'arc' in response ? response.arc : response.csu}`.toUpperCase()
}

/**
 * The data an ARQC covers (CDOL1 data as the profile defines it, @cardplane/emv's layout, the same table the
 * key service's payment-crypto verifies with), or undefined when a tag is missing, not hex or of the wrong
 * length, or the profile is unknown (the cryptogram then cannot be valid).
 */
export function arqcData(profile: string, emv: Record<string, string>): string | undefined {
  const r = cryptogramInput(profile, emv)
  return r.ok ? r.hex : undefined
}

/** A card row's sealed record, opened under its data key (EnvelopeError if it does not authenticate). */
function openWith(key: Buffer, row: Pick<CardRow, 'cardId' | 'record'>): CardRecord {
  return JSON.parse(openRecord(key, row.cardId, row.record).toString('utf8')) as CardRecord
}

function storedPin(s: StoredPinBlock): NonNullable<CardRecord['pinb']> {
  return { k: s.pekName, b: s.pinBlock, v: s.keyVersion }
}
