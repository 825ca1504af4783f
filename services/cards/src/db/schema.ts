/**
 * The cards service's tables. Main cluster: card IDs, last four, BIN and expiry only; never a PAN.
 */
import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

/** Cards by opaque card ID, with the customer and ledger account behind them. */
export const cards = pgTable(
  'cards',
  {
    cardId: text('card_id').primaryKey(),
    programId: text('program_id').notNull(),
    customerId: text('customer_id').notNull(),
    accountId: text('account_id').notNull(),
    lastFour: text('last_four').notNull(),
    bin: text('bin').notNull(),
    expiryMonth: integer('expiry_month').notNull(),
    expiryYear: integer('expiry_year').notNull(),
    status: text('status').notNull().default('active'),
    /** Production / shipping state reported by manufacturing (via proxy-internal). */
    manufacturingStatus: text('manufacturing_status'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('cards_customer_idx').on(t.customerId)],
)
