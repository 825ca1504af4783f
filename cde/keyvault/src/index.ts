// Public surface of the key service package, for tools (CLI audit verifier, bench, dev bootstrap).
export { buildApp, type AppDeps } from './app.js'
export { createCore, ALL_ROUTES } from './build-core.js'
export { Core, type CoreSettings } from './core.js'
export { verifyAuditLog, verifyAuditLines, chainHash, GENESIS_HASH, type AuditVerification, type AuditProblem } from './domain/audit-log.js'
export { runMigrations } from './db/migrate.js'
export { KEY_TYPES, KEY_SPECS, type KeyType } from './domain/key-types.js'
