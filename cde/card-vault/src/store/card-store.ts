/**
 * SQL access of the card vault (plain `pg` with named prepared statements: the verification path
 * runs thousands of lookups a second). The schema is in db/schema.ts; nothing here sees clear card
 * data except as an already sealed `record`.
 */
import type { Pool, PoolClient } from 'pg'

/** A program row as the vault uses it. */
export interface ProgramRow {
  id: string
  bin: string
  panLength: number
  accountStart: string
  rangeSize: bigint
  validityMonths: number
  serviceCode: string
  pinTryLimit: number
  cvkName: string
  pvkName: string
  pvki: number
  imkAcName: string | null
  /** Key-service ARQC profile (e.g. `visa-cvn18`) when the program has chip cards. */
  arqcProfile: string | null
}

/** A card row (sealed record included). */
export interface CardRow {
  cardId: string
  programId: string
  lastFour: string
  bin: string
  status: string
  pinSet: boolean
  pinTries: number
  pinLocked: boolean
  dekId: number
  indexKeyId: number
  record: Buffer
}

/** What inserting a card needs. */
export interface NewCard {
  cardId: string
  programId: string
  panHmac: Buffer
  indexKeyId: number
  lastFour: string
  bin: string
  pinSet: boolean
  dekId: number
  record: Buffer
  /** Version of the PIN storage key the record's PIN block is under (null: no stored block). */
  pinKeyVersion: number | null
}

/** A card whose stored PIN block may be under an older PIN storage key version (the rotation pass's work list). */
export interface PinWorkRow {
  cardId: string
  dekId: number
  record: Buffer
  /** null: not known yet (written before the column existed). */
  pinKeyVersion: number | null
}

/** A data key row (wrapped form only). */
export interface DataKeyRow {
  id: number
  purpose: 'records' | 'index'
  kekName: string
  kekVersion: number
  wrapped: string
  active: boolean
}

/** A card as the PAN-index re-keying step reads it: enough to open the record and guard the update. */
export interface IndexWorkRow {
  cardId: string
  indexKeyId: number
  dekId: number
  record: Buffer
}

function program(r: any): ProgramRow {
  return {
    id: r.id,
    bin: r.bin,
    panLength: r.pan_length,
    accountStart: r.account_start,
    rangeSize: BigInt(r.range_size),
    validityMonths: r.validity_months,
    serviceCode: r.service_code,
    pinTryLimit: r.pin_try_limit,
    cvkName: r.cvk_name,
    pvkName: r.pvk_name,
    pvki: r.pvki,
    imkAcName: r.imk_ac_name,
    arqcProfile: r.arqc_profile,
  }
}

function card(r: any): CardRow {
  return {
    cardId: r.card_id,
    programId: r.program_id,
    lastFour: r.last_four,
    bin: r.bin,
    status: r.status,
    pinSet: r.pin_set,
    pinTries: r.pin_tries,
    pinLocked: r.pin_locked_at !== null,
    dekId: r.dek_id,
    indexKeyId: r.index_key_id,
    record: r.record,
  }
}

function dataKey(r: any): DataKeyRow {
  return { id: r.id, purpose: r.purpose, kekName: r.kek_name, kekVersion: r.kek_version, wrapped: r.wrapped, active: r.active }
}

const CARD_COLUMNS = 'card_id, program_id, last_four, bin, status, pin_set, pin_tries, pin_locked_at, dek_id, index_key_id, record'

/** The card vault's database access. */
export class CardStore {
  constructor(readonly pool: Pool) {}

  /** Insert the program if new; return the stored row (which wins if it already existed). */
  async upsertProgram(p: ProgramRow): Promise<ProgramRow> {
    await this.pool.query(
      `INSERT INTO programs (id, bin, pan_length, account_start, range_size, validity_months, service_code,
         pin_try_limit, cvk_name, pvk_name, pvki, imk_ac_name, arqc_profile)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (id) DO NOTHING`,
      [p.id, p.bin, p.panLength, p.accountStart, p.rangeSize.toString(), p.validityMonths, p.serviceCode, p.pinTryLimit,
        p.cvkName, p.pvkName, p.pvki, p.imkAcName, p.arqcProfile],
    )
    const stored = await this.getProgram(p.id)
    if (!stored) throw new Error('program vanished after insert')
    return stored
  }

  async getProgram(id: string): Promise<ProgramRow | undefined> {
    const r = await this.pool.query({ name: 'cv_get_program', text: 'SELECT * FROM programs WHERE id = $1', values: [id] })
    return r.rows[0] ? program(r.rows[0]) : undefined
  }

  /**
   * Reserve `count` sequence numbers of a program's range. One conditional UPDATE: the row lock
   * serialises concurrent issuers and the counter never goes back, so a number is never handed out
   * twice (numbers of a failed issue are burnt, not reused). Returns the first number, or undefined
   * when the range is exhausted.
   */
  async reserveSequences(programId: string, count: number): Promise<bigint | undefined> {
    const r = await this.pool.query({
      name: 'cv_reserve_seq',
      text: `UPDATE programs SET next_seq = next_seq + $2 WHERE id = $1 AND next_seq + $2 <= range_size
             RETURNING next_seq - $2 AS first`,
      values: [programId, count],
    })
    const first = (r.rows[0] as { first?: string } | undefined)?.first
    return first === undefined ? undefined : BigInt(first)
  }

  /** Insert a card; false when the PAN HMAC already exists (a collision the caller must handle). */
  async insertCard(c: NewCard): Promise<boolean> {
    const r = await this.pool.query({
      name: 'cv_insert_card',
      text: `INSERT INTO cards (card_id, program_id, pan_hmac, index_key_id, last_four, bin, pin_set, dek_id, record, pin_key_version)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (pan_hmac) DO NOTHING`,
      values: [c.cardId, c.programId, c.panHmac, c.indexKeyId, c.lastFour, c.bin, c.pinSet, c.dekId, c.record, c.pinKeyVersion],
    })
    return r.rowCount === 1
  }

  async getCard(cardId: string): Promise<CardRow | undefined> {
    const r = await this.pool.query({ name: 'cv_get_card', text: `SELECT ${CARD_COLUMNS} FROM cards WHERE card_id = $1`, values: [cardId] })
    return r.rows[0] ? card(r.rows[0]) : undefined
  }

  async findByPanHmac(hmac: Buffer): Promise<CardRow | undefined> {
    const r = await this.pool.query({ name: 'cv_find_hmac', text: `SELECT ${CARD_COLUMNS} FROM cards WHERE pan_hmac = $1`, values: [hmac] })
    return r.rows[0] ? card(r.rows[0]) : undefined
  }

  /**
   * Several index lookups in one round trip: element i is the card whose PAN HMAC is `hmacs[i]` (or
   * undefined). The HMACs are joined to the index in their order (`WITH ORDINALITY`), so rows come back
   * with their position and nothing is keyed by hex; rows come as arrays (the verify path's hottest query).
   */
  async findByPanHmacs(hmacs: Buffer[]): Promise<(CardRow | undefined)[]> {
    const r = await this.pool.query<unknown[]>({
      name: 'cv_find_hmacs',
      text: `SELECT q.i::int, c.card_id, c.program_id, c.last_four, c.bin, c.status, c.pin_set, c.pin_tries, c.pin_locked_at,
               c.dek_id, c.index_key_id, c.record
             FROM unnest($1::bytea[]) WITH ORDINALITY AS q(h, i) JOIN cards c ON c.pan_hmac = q.h`,
      values: [hmacs],
      rowMode: 'array',
    })
    const out = new Array<CardRow | undefined>(hmacs.length)
    for (const v of r.rows as any[]) {
      out[v[0] - 1] = {
        cardId: v[1],
        programId: v[2],
        lastFour: v[3],
        bin: v[4],
        status: v[5],
        pinSet: v[6],
        pinTries: v[7],
        pinLocked: v[8] !== null,
        dekId: v[9],
        indexKeyId: v[10],
        record: v[11],
      }
    }
    return out
  }

  /** Count a wrong PIN; locks the card's PIN when the limit is reached. Returns the new state. */
  async recordPinFailure(cardId: string, limit: number): Promise<{ tries: number; locked: boolean }> {
    const r = await this.pool.query({
      name: 'cv_pin_fail',
      text: `UPDATE cards SET pin_tries = pin_tries + 1,
               pin_locked_at = CASE WHEN pin_tries + 1 >= $2 THEN COALESCE(pin_locked_at, now()) ELSE pin_locked_at END,
               updated_at = now()
             WHERE card_id = $1 RETURNING pin_tries, pin_locked_at`,
      values: [cardId, limit],
    })
    const row = r.rows[0] as { pin_tries: number; pin_locked_at: Date | null }
    return { tries: row.pin_tries, locked: row.pin_locked_at !== null }
  }

  /** A correct PIN resets the counter (only while not locked: unlocking is an operator action). */
  async resetPinTries(cardId: string): Promise<void> {
    await this.pool.query({
      name: 'cv_pin_reset',
      text: 'UPDATE cards SET pin_tries = 0, updated_at = now() WHERE card_id = $1 AND pin_tries <> 0 AND pin_locked_at IS NULL',
      values: [cardId],
    })
  }

  /**
   * Replace a card's sealed record, only if the row is exactly as it was read: the same data key and the
   * same sealed bytes (every write seals afresh with a new nonce, so any other write changes them).
   * Optimistic: a concurrent writer wins and the caller retries on the fresh row. Guarding on the data key
   * alone was not enough: a PIN set that sealed under the same key between a rewrap's read and its write
   * would have been overwritten by the rewrapped old record.
   */
  async replaceRecord(
    cardId: string,
    expected: { dekId: number; record: Buffer },
    dekId: number,
    record: Buffer,
    extra: { pinSet?: boolean; resetPin?: boolean; pinKeyVersion?: number } = {},
  ): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE cards SET record = $3, dek_id = $4, updated_at = now(),
         pin_set = COALESCE($5, pin_set),
         pin_tries = CASE WHEN $6 THEN 0 ELSE pin_tries END,
         pin_locked_at = CASE WHEN $6 THEN NULL ELSE pin_locked_at END,
         pin_key_version = COALESCE($7, pin_key_version)
       WHERE card_id = $1 AND dek_id = $2 AND record = $8`,
      [cardId, expected.dekId, record, dekId, extra.pinSet ?? null, extra.resetPin === true, extra.pinKeyVersion ?? null, expected.record],
    )
    return r.rowCount === 1
  }

  /**
   * The rotation pass's PIN work list: cards with a PIN whose stored block is under a PIN storage key
   * version below `latest` (1 ≤ v < latest), or not known yet (NULL: written before the column), in
   * card ID order after `after` (a cursor, so a card the pass had to leave is not picked again in the
   * same pass). Cards without a PIN and those marked 0 (nothing to move) are never selected.
   */
  async cardsWithPinBelow(latest: number, after: string, limit: number): Promise<PinWorkRow[]> {
    const r = await this.pool.query(
      `SELECT card_id, dek_id, record, pin_key_version FROM cards
       WHERE pin_set AND (pin_key_version IS NULL OR (pin_key_version >= 1 AND pin_key_version < $1)) AND card_id > $2
       ORDER BY card_id LIMIT $3`,
      [latest, after, limit],
    )
    return (r.rows as { card_id: string; dek_id: number; record: Buffer; pin_key_version: number | null }[]).map((x) => ({
      cardId: x.card_id,
      dekId: x.dek_id,
      record: x.record,
      pinKeyVersion: x.pin_key_version,
    }))
  }

  /**
   * Store a record whose PIN block moved (or whose PIN key version is only being recorded: same record,
   * same data key) with its PIN key version, in one UPDATE and only if the row is exactly as it was read
   * (same data key and the same sealed bytes — every write seals afresh with a new nonce). A concurrent PIN
   * set, PIN change or rewrap wins; this write is then dropped and the caller leaves the card.
   */
  async replacePinRecord(
    cardId: string,
    expected: { dekId: number; record: Buffer },
    dekId: number,
    record: Buffer,
    pinKeyVersion: number,
  ): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE cards SET record = $4, dek_id = $5, pin_key_version = $6, updated_at = now()
       WHERE card_id = $1 AND dek_id = $2 AND record = $3`,
      [cardId, expected.dekId, expected.record, record, dekId, pinKeyVersion],
    )
    return r.rowCount === 1
  }

  /**
   * The re-keying step's work list: cards indexed under one of the index keys `keyIds` (the ones that are
   * not active: an equality list, so `cards_index_key_idx` answers and a pass with nothing to do is cheap),
   * in card ID order after `after` (a cursor, so a card the pass had to leave is not picked again).
   */
  async cardsUnderIndexKeys(keyIds: number[], after: string, limit: number): Promise<IndexWorkRow[]> {
    if (keyIds.length === 0) return []
    const r = await this.pool.query(
      `SELECT card_id, index_key_id, dek_id, record FROM cards WHERE index_key_id = ANY($1::int[]) AND card_id > $2 ORDER BY card_id LIMIT $3`,
      [keyIds, after, limit],
    )
    return (r.rows as { card_id: string; index_key_id: number; dek_id: number; record: Buffer }[]).map((x) => ({
      cardId: x.card_id,
      indexKeyId: x.index_key_id,
      dekId: x.dek_id,
      record: x.record,
    }))
  }

  /**
   * Move a card's PAN index entry to another index key: HMAC and key id in one UPDATE, only while the row is
   * still under `expectedKeyId`. False when the row changed meanwhile, or when the new HMAC is already taken
   * (a card with the same PAN under the new key: left for an operator, never overwritten).
   */
  async reindexCard(cardId: string, expectedKeyId: number, keyId: number, hmac: Buffer): Promise<boolean> {
    try {
      const r = await this.pool.query(
        'UPDATE cards SET pan_hmac = $3, index_key_id = $4, updated_at = now() WHERE card_id = $1 AND index_key_id = $2',
        [cardId, expectedKeyId, hmac, keyId],
      )
      return r.rowCount === 1
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return false
      throw err
    }
  }

  /** Ids of the index keys other than `activeId` (retiring and retired ones). */
  async otherIndexKeyIds(activeId: number): Promise<number[]> {
    const r = await this.pool.query(`SELECT id FROM data_keys WHERE purpose = 'index' AND id <> $1 ORDER BY id`, [activeId])
    return (r.rows as { id: number }[]).map((x) => x.id)
  }

  /** Index keys that were replaced and are not retired yet (lookups still fall back to them), oldest first. */
  async retiringIndexKeys(): Promise<DataKeyRow[]> {
    const r = await this.pool.query({
      name: 'cv_retiring_index_keys',
      text: `SELECT * FROM data_keys WHERE purpose = 'index' AND NOT active AND retired_at IS NULL ORDER BY id`,
    })
    return r.rows.map(dataKey)
  }

  /**
   * Start replacing the index key: `replacing` (the active one) becomes retiring and `k` the active one, in
   * one transaction. Refused (`retiring`) while a replaced key is still retiring (one replacement at a time);
   * `raced` when `replacing` was no longer the active key.
   */
  async replaceIndexKey(
    k: Omit<DataKeyRow, 'id' | 'active' | 'purpose'>,
    replacing: number,
  ): Promise<{ ok: true; row: DataKeyRow } | { ok: false; reason: 'retiring'; retiringKeyId: number } | { ok: false; reason: 'raced' }> {
    return this.tx(async (c) => {
      // The index keys' rows locked: two replacements at once are serialised here.
      const keys = await c.query(`SELECT id, active, retired_at FROM data_keys WHERE purpose = 'index' ORDER BY id FOR UPDATE`)
      const retiring = (keys.rows as { id: number; active: boolean; retired_at: Date | null }[]).find((x) => !x.active && x.retired_at === null)
      if (retiring) return { ok: false, reason: 'retiring', retiringKeyId: retiring.id }
      const off = await c.query('UPDATE data_keys SET active = false WHERE id = $1 AND active', [replacing])
      if (off.rowCount !== 1) return { ok: false, reason: 'raced' }
      const r = await c.query(
        `INSERT INTO data_keys (purpose, kek_name, kek_version, wrapped, active) VALUES ('index',$1,$2,$3,true) RETURNING *`,
        [k.kekName, k.kekVersion, k.wrapped],
      )
      return { ok: true, row: dataKey(r.rows[0]) }
    })
  }

  /**
   * Mark a retiring index key retired, only when no card is indexed under it any more and its replacement
   * has been active for longer than `graceMs` (every instance re-reads the index keys within that time, so
   * none still indexes new cards under the old key). True when marked.
   */
  async retireIndexKey(id: number, graceMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE data_keys SET retired_at = now()
       WHERE id = $1 AND purpose = 'index' AND NOT active AND retired_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM cards WHERE index_key_id = $1)
         AND EXISTS (SELECT 1 FROM data_keys a WHERE a.purpose = 'index' AND a.active
                     AND a.created_at <= now() - make_interval(secs => $2::double precision / 1000))`,
      [id, graceMs],
    )
    return r.rowCount === 1
  }

  /**
   * Cards whose record is sealed under another key than `dekId` (the rewrap job's work list). Written as two
   * ranges, not `<>`, so `cards_dek_idx` answers: a pass reads only the rows still to move, instead of
   * scanning past every row already moved on each batch (quadratic over a large table).
   */
  async cardsNotUnder(dekId: number, limit: number): Promise<CardRow[]> {
    const r = await this.pool.query(`SELECT ${CARD_COLUMNS} FROM cards WHERE (dek_id < $1 OR dek_id > $1) LIMIT $2`, [dekId, limit])
    return r.rows.map(card)
  }

  async countByDek(): Promise<Record<number, number>> {
    const r = await this.pool.query('SELECT dek_id, count(*)::int AS n FROM cards GROUP BY dek_id')
    const out: Record<number, number> = {}
    for (const row of r.rows as { dek_id: number; n: number }[]) out[row.dek_id] = row.n
    return out
  }

  async activeDataKey(purpose: DataKeyRow['purpose']): Promise<DataKeyRow | undefined> {
    const r = await this.pool.query({
      name: 'cv_active_key',
      text: 'SELECT * FROM data_keys WHERE purpose = $1 AND active',
      values: [purpose],
    })
    return r.rows[0] ? dataKey(r.rows[0]) : undefined
  }

  async dataKeyById(id: number): Promise<DataKeyRow | undefined> {
    const r = await this.pool.query({ name: 'cv_key_by_id', text: 'SELECT * FROM data_keys WHERE id = $1', values: [id] })
    return r.rows[0] ? dataKey(r.rows[0]) : undefined
  }

  async allDataKeys(): Promise<DataKeyRow[]> {
    const r = await this.pool.query('SELECT * FROM data_keys ORDER BY id')
    return r.rows.map(dataKey)
  }

  /**
   * Make a new data key the active one for its purpose (the previous one stays readable). When
   * `replacing` is given the switch happens only if that key is still the active one, so two
   * instances rotating at once do not both win.
   */
  async activateDataKey(
    k: Omit<DataKeyRow, 'id' | 'active'>,
    replacing: number | undefined,
  ): Promise<DataKeyRow | undefined> {
    return this.tx(async (c) => {
      if (replacing !== undefined) {
        const off = await c.query('UPDATE data_keys SET active = false WHERE id = $1 AND active', [replacing])
        if (off.rowCount !== 1) return undefined
      }
      const r = await c.query(
        `INSERT INTO data_keys (purpose, kek_name, kek_version, wrapped, active) VALUES ($1,$2,$3,$4,true)
         ON CONFLICT (purpose) WHERE active DO NOTHING RETURNING *`,
        [k.purpose, k.kekName, k.kekVersion, k.wrapped],
      )
      return r.rows[0] ? dataKey(r.rows[0]) : undefined
    })
  }

  /** Store a data key's wrapped form re-encrypted under a newer wrapping-key version. */
  async updateWrapped(id: number, wrapped: string, kekVersion: number): Promise<void> {
    await this.pool.query('UPDATE data_keys SET wrapped = $2, kek_version = $3 WHERE id = $1', [id, wrapped, kekVersion])
  }

  async createRevealSession(hash: Buffer, cardId: string, kind: string, ttlSeconds: number): Promise<Date> {
    const r = await this.pool.query(
      `INSERT INTO reveal_sessions (token_hash, card_id, kind, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
      [hash, cardId, kind, ttlSeconds],
    )
    return (r.rows[0] as { expires_at: Date }).expires_at
  }

  /** Redeem a session once: one conditional UPDATE, so two concurrent loads cannot both win. */
  async redeemRevealSession(hash: Buffer, kind: string): Promise<string | undefined> {
    const r = await this.pool.query(
      `UPDATE reveal_sessions SET redeemed_at = now()
       WHERE token_hash = $1 AND kind = $2 AND redeemed_at IS NULL AND expires_at > now()
       RETURNING card_id`,
      [hash, kind],
    )
    return (r.rows[0] as { card_id?: string } | undefined)?.card_id
  }

  /** The card of a session that could still be redeemed (not used, not expired), without using it. */
  async peekSession(hash: Buffer, kind: string): Promise<string | undefined> {
    const r = await this.pool.query(
      'SELECT card_id FROM reveal_sessions WHERE token_hash = $1 AND kind = $2 AND redeemed_at IS NULL AND expires_at > now()',
      [hash, kind],
    )
    return (r.rows[0] as { card_id?: string } | undefined)?.card_id
  }

  /**
   * Count a refused attempt on a live session; at `max` the session is used up (redeemed_at set).
   * Returns the attempts left, or undefined when the session was not live.
   */
  async refuseSessionAttempt(hash: Buffer, kind: string, max: number): Promise<number | undefined> {
    const r = await this.pool.query(
      `UPDATE reveal_sessions SET attempts = attempts + 1,
         redeemed_at = CASE WHEN attempts + 1 >= $3 THEN now() ELSE NULL END
       WHERE token_hash = $1 AND kind = $2 AND redeemed_at IS NULL AND expires_at > now()
       RETURNING attempts`,
      [hash, kind, max],
    )
    const row = r.rows[0] as { attempts: number } | undefined
    return row ? Math.max(0, max - row.attempts) : undefined
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      const out = await fn(c)
      await c.query('COMMIT')
      return out
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      c.release()
    }
  }
}
