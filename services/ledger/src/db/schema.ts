import { sql } from 'drizzle-orm'
import { bigint, boolean, char, check, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

const money = (name: string) => bigint(name, { mode: 'number' })
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

/**
 * One account per customer balance, in one currency. `held_minor` is the sum of the account's active
 * holds, maintained in the same transaction as every hold change so that available = balance - held is
 * one row read (and one row lock serialises everything that moves an account).
 */
export const accounts = pgTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    currency: char('currency', { length: 3 }).notNull(),
    balanceMinor: money('balance_minor').notNull().default(0),
    heldMinor: money('held_minor').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [check('accounts_held_non_negative', sql`${t.heldMinor} >= 0`)],
)

/**
 * Journal of balance movements (credits from funding, debits from captures). `reference` is the caller's
 * idempotency key, unique per kind: a repeated credit finds its entry instead of crediting twice.
 */
export const entries = pgTable(
  'entries',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    kind: text('kind', { enum: ['credit', 'capture'] }).notNull(),
    reference: text('reference').notNull(),
    /** Signed: credits positive, captures negative. */
    amountMinor: money('amount_minor').notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    balanceAfterMinor: money('balance_after_minor').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('entries_account_idx').on(t.accountId), uniqueIndex('entries_kind_reference_uq').on(t.kind, t.reference)],
)

/**
 * A hold on an account for one authorisation. `authorization_id` is unique: it is the idempotency key of
 * placing the hold. `amount_minor` is what is held now; increments, releases and captures move it.
 */
export const holds = pgTable(
  'holds',
  {
    id: text('id').primaryKey(),
    authorizationId: text('authorization_id').notNull().unique(),
    accountId: text('account_id')
      .notNull()
      .references(() => accounts.id),
    currency: char('currency', { length: 3 }).notNull(),
    requestedMinor: money('requested_minor').notNull(),
    amountMinor: money('amount_minor').notNull(),
    capturedMinor: money('captured_minor').notNull().default(0),
    releasedMinor: money('released_minor').notNull().default(0),
    status: text('status', { enum: ['active', 'released', 'captured', 'expired'] }).notNull(),
    /** Placed without a funds check (posting a stand-in advice): may overdraw the account. */
    forced: boolean('forced').notNull().default(false),
    /** The first placement held less than requested (partial approval); replays answer `partial` again. */
    partial: boolean('partial').notNull().default(false),
    expiresAt: ts('expires_at').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    /**
     * Active holds of an account by expiry: "is any hold due?" (asked under the account lock by every
     * hold placement) and the sweep read one index entry instead of every active hold of the account.
     * The only index on account_id (migration 0002 dropped (account_id, status)): every query of holds by
     * account is about its active holds, and with two such indexes a plan made on young statistics could
     * pick the other and read every active hold of the account (see PLACE_FUNDED_HOLDS). Accounts are
     * never deleted, so the foreign key needs no index of its own.
     */
    index('holds_account_due_idx').on(t.accountId, t.expiresAt).where(sql`${t.status} = 'active'`),
    check('holds_amount_non_negative', sql`${t.amountMinor} >= 0`),
  ],
)

/**
 * Idempotency record of every operation on an existing hold (increment, release, capture): the caller's
 * operation id and the answer given, returned as-is on a repeat.
 */
export const holdOperations = pgTable('hold_operations', {
  operationId: text('operation_id').primaryKey(),
  holdId: text('hold_id')
    .notNull()
    .references(() => holds.id),
  kind: text('kind', { enum: ['increment', 'release', 'capture'] }).notNull(),
  result: jsonb('result').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
})
