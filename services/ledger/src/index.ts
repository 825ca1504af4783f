export { buildApp, type LedgerDeps } from './app.js'
export { ledgerConfigSchema, loadLedgerConfig, type LedgerConfig } from './config.js'
export { migrateDatabase, openDatabase, type LedgerDatabase } from './db/client.js'
export type { AccountView, HoldView, PlaceHoldResult, HoldOperationResult, CreditResult } from './domain/views.js'
