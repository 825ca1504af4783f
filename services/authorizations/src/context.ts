import type pg from 'pg'
import type { AuthorizationsDb } from './db/client.js'
import type { LedgerPort } from './ledger-client.js'
import type { VelocityCounter } from './velocity.js'

/** Minimal logger the services need (fastify's and pino's loggers fit). */
export interface WarnLogger {
  warn(obj: object, msg: string): void
}

/** What the decision, advice and reversal services share. */
export interface ServiceContext {
  db: AuthorizationsDb
  /** The pool under `db` (pipeline mode): the decision's hot path runs plain pipelined SQL on it. */
  pool: pg.Pool
  ledger: LedgerPort
  velocity: VelocityCounter
  now: () => Date
  log: WarnLogger
}
