/**
 * Card vault tables. Clear card data never appears in a column: PAN, expiry, cardholder name and PVV
 * live only inside `cards.record` (AES-256-GCM, see domain/envelope.ts); the PAN is findable only
 * through its keyed HMAC (`cards.pan_hmac`). Wrapped data keys are ciphertexts of the key service.
 */
import { sql } from 'drizzle-orm'
import { bigint, boolean, customType, index, integer, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' })

/** Card programs as the card vault needs them: the PAN range, expiry rule, PIN policy and key names. */
export const programs = pgTable('programs', {
  id: text('id').primaryKey(),
  bin: text('bin').notNull(),
  panLength: integer('pan_length').notNull(),
  accountStart: text('account_start').notNull(),
  rangeSize: bigint('range_size', { mode: 'bigint' }).notNull(),
  /** Next sequence number of the range; only ever increases (never reused, even after a failed issue). */
  nextSeq: bigint('next_seq', { mode: 'bigint' }).notNull().default(sql`0`),
  validityMonths: integer('validity_months').notNull(),
  serviceCode: text('service_code').notNull(),
  pinTryLimit: integer('pin_try_limit').notNull(),
  cvkName: text('cvk_name').notNull(),
  pvkName: text('pvk_name').notNull(),
  pvki: integer('pvki').notNull().default(1),
  imkAcName: text('imk_ac_name'),
  arqcProfile: text('arqc_profile'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})

/** Data keys: generated and wrapped by the key service (`datakey`); the plaintext is never stored. */
export const dataKeys = pgTable(
  'data_keys',
  {
  id: serial('id').primaryKey(),
  /** `records` (card records) or `index` (PAN HMAC key). */
  purpose: text('purpose').notNull(),
  kekName: text('kek_name').notNull(),
  /** Version of the key-service key that wraps this data key. */
  kekVersion: integer('kek_version').notNull(),
  /** Key-service ciphertext (`vault:vN:...`) of the data key. */
  wrapped: text('wrapped').notNull(),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /**
   * `index` keys only: when a replaced index key stopped being needed (no card left under it). A replaced
   * index key (not active) with no `retired_at` is *retiring*: lookups still fall back to it.
   */
  retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  // At most one active key per purpose, even when two instances start at once.
  (t) => [uniqueIndex('data_keys_one_active').on(t.purpose).where(sql`active`)],
)

/** One row per card. */
export const cards = pgTable(
  'cards',
  {
    cardId: text('card_id').primaryKey(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    /** HMAC-SHA-256 of the PAN under the index key: the only way to find a card by PAN. */
    panHmac: bytea('pan_hmac').notNull().unique(),
    indexKeyId: integer('index_key_id')
      .notNull()
      .references(() => dataKeys.id),
    lastFour: text('last_four').notNull(),
    bin: text('bin').notNull(),
    status: text('status').notNull().default('active'),
    pinSet: boolean('pin_set').notNull().default(false),
    pinTries: integer('pin_tries').notNull().default(0),
    pinLockedAt: timestamp('pin_locked_at', { withTimezone: true }),
    /**
     * Key-service version of the PIN storage key (`pek`) the record's stored PIN block is under, kept in
     * step with the record: the rotation pass's work list (blocks below the key's latest version). NULL:
     * no PIN, or a row written before this column (the pass opens it once and fills it in); 0: a PIN the
     * pass cannot move (PVV only, or a block under another key than the configured one).
     */
    pinKeyVersion: integer('pin_key_version'),
    /** Data key the record is sealed under (its kek_version is the recorded key version). */
    dekId: integer('dek_id')
      .notNull()
      .references(() => dataKeys.id),
    /** Ciphertext column: AES-256-GCM sealed JSON {pan, expiry, name, serviceCode, pvv}. */
    record: bytea('record').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('cards_dek_idx').on(t.dekId),
    index('cards_index_key_idx').on(t.indexKeyId),
    index('cards_pin_key_version_idx').on(t.pinKeyVersion).where(sql`pin_set`),
  ],
)

/** One-time reveal / PIN-set sessions; only the SHA-256 of the token is stored. */
export const revealSessions = pgTable('reveal_sessions', {
  tokenHash: bytea('token_hash').primaryKey(),
  cardId: text('card_id')
    .notNull()
    .references(() => cards.cardId),
  /** `card` (PAN, expiry, CVV2), `pin_set` or `pin_reveal`. */
  kind: text('kind').notNull(),
  /** Refused PIN-set attempts (weak or malformed PIN); the session is used up at the limit. */
  attempts: integer('attempts').notNull().default(0),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  redeemedAt: timestamp('redeemed_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
})

/** Columns that hold ciphertext only (the leak scanner skips exactly these in CDE tables). */
export const CIPHERTEXT_COLUMNS = ['cards.record', 'data_keys.wrapped', 'cards.pan_hmac', 'reveal_sessions.token_hash'] as const
