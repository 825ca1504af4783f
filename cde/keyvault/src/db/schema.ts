import { bigint, customType, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
})

/**
 * Physical storage under the barrier. Every value except `core/seal-config` is AES-256-GCM ciphertext
 * (see src/domain/barrier.ts); the database never holds key material in clear.
 */
export const barrierEntries = pgTable('barrier_entries', {
  path: text('path').primaryKey(),
  value: bytea('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
})

/**
 * Append-only, hash-chained audit log. `hash = sha256(prev_hash ‖ seq ‖ entry)`; UPDATE, DELETE and
 * TRUNCATE are refused by triggers (migration 0001). Sensitive values inside `entry` are salted HMACs.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'bigint' }).primaryKey(),
    time: timestamp('time', { withTimezone: true, mode: 'string' }).notNull(),
    kind: text('kind').notNull(),
    requestId: text('request_id').notNull(),
    entry: text('entry').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_log_request_id_idx').on(t.requestId)],
)
