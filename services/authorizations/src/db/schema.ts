import { bigint, char, date, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core'
import type { AdviceResult, Decision, ReversalResult } from '@cardplane/contracts'
import type { SpendControls } from '../domain/card-state.js'

const money = (name: string) => bigint(name, { mode: 'number' })
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

/**
 * Authorisation state per card, pushed by `cards`. The row is also the per-card lock: every decision,
 * advice and reversal for a card runs under `SELECT ... FOR UPDATE` on it, which serialises limits,
 * duplicates and late-decision reconciliation for that card.
 */
export const cards = pgTable('cards', {
  cardId: text('card_id').primaryKey(),
  accountId: text('account_id').notNull(),
  programId: text('program_id').notNull(),
  status: text('status').notNull(),
  currency: char('currency', { length: 3 }).notNull(),
  controls: jsonb('controls').$type<SpendControls>(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

/** Program-level spend controls (apply to every card of the program). */
export const programs = pgTable('programs', {
  programId: text('program_id').primaryKey(),
  controls: jsonb('controls').$type<SpendControls>().notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
})

/**
 * One row per authorizationId: the decision given (by the issuer or, after an advice, by a stand-in).
 * The primary key is the idempotency key. `approved_minor - reversed_minor` is what counts against the
 * daily/monthly limits and what the ledger holds.
 */
export const authorizations = pgTable(
  'authorizations',
  {
    authorizationId: text('authorization_id').primaryKey(),
    cardId: text('card_id').notNull(),
    messageClass: text('message_class').notNull(),
    /** issuer | processor_stand_in | scheme_stand_in */
    source: text('source').notNull(),
    outcome: text('outcome').notNull(),
    reason: text('reason'),
    currency: char('currency', { length: 3 }).notNull(),
    requestedMinor: money('requested_minor').notNull(),
    approvedMinor: money('approved_minor').notNull().default(0),
    reversedMinor: money('reversed_minor').notNull().default(0),
    holdId: text('hold_id'),
    originalAuthorizationId: text('original_authorization_id'),
    /** scheme|acquirer|stan|transmission time: a second id for the same network message is a duplicate. */
    networkKey: text('network_key').notNull(),
    /** What the issuer itself decided, when a stand-in answer later replaced it. */
    issuerOutcome: text('issuer_outcome'),
    decision: jsonb('decision').$type<Decision>().notNull(),
    decidedAt: ts('decided_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('authorizations_card_time_idx').on(t.cardId, t.decidedAt), index('authorizations_network_idx').on(t.networkKey)],
)

/**
 * Running spend per card and UTC day (`period` = 'day') or month ('month', `period_start` = the 1st):
 * the sum of `approved_minor - reversed_minor` over the card's approved and partial authorisations decided
 * in that period. Maintained by a trigger on `authorizations` (migration 0002) on every insert and update,
 * whichever code path writes (decision, advice, reversal), so a limit check reads one row instead of
 * summing the card's month of authorisations.
 */
export const cardUsage = pgTable(
  'card_usage',
  {
    cardId: text('card_id').notNull(),
    period: text('period', { enum: ['day', 'month'] }).notNull(),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    amountMinor: money('amount_minor').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.cardId, t.period, t.periodStart] })],
)

/** Advices seen (idempotency by adviceId) and the answer given. */
export const advices = pgTable('advices', {
  adviceId: text('advice_id').primaryKey(),
  authorizationId: text('authorization_id').notNull(),
  result: jsonb('result').$type<AdviceResult>().notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
})

/** Reversals seen (idempotency by reversalId), including those whose original is unknown (yet). */
export const reversals = pgTable(
  'reversals',
  {
    reversalId: text('reversal_id').primaryKey(),
    originalAuthorizationId: text('original_authorization_id').notNull(),
    kind: text('kind').notNull(),
    result: jsonb('result').$type<ReversalResult>().notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('reversals_original_idx').on(t.originalAuthorizationId)],
)
