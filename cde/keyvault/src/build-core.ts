import type { Pool } from 'pg'
import { Core, type CoreSettings } from './core.js'
import { AuditLog } from './domain/audit-log.js'
import { PgStorage } from './db/pg-storage.js'
import { runMigrations } from './db/migrate.js'
import { authSpiffeRoutes } from './routes/auth-spiffe.js'
import { authTokenRoutes } from './routes/auth-token.js'
import { keyRoutes } from './routes/keys.js'
import { cvvRoutes } from './routes/payments-cvv.js'
import { emvRoutes } from './routes/payments-emv.js'
import { macRoutes } from './routes/payments-mac.js'
import { pinRoutes } from './routes/payments-pin.js'
import { sysAdminRoutes } from './routes/sys-admin.js'
import { sysSealRoutes } from './routes/sys-seal.js'
import { transitRoutes } from './routes/transit.js'

/** Every API path of the key service, in one list (see docs/keyvault-api.md). */
export const ALL_ROUTES = [
  ...sysSealRoutes,
  ...sysAdminRoutes,
  ...authTokenRoutes,
  ...authSpiffeRoutes,
  ...keyRoutes,
  ...transitRoutes,
  ...cvvRoutes,
  ...pinRoutes,
  ...emvRoutes,
  ...macRoutes,
]

/** Migrate, start the audit writer, build the core with every route. The service starts sealed. */
export async function createCore(opts: { pool: Pool; settings: CoreSettings; auditFile?: string; auditMaxBatch?: number }): Promise<Core> {
  await runMigrations(opts.pool)
  const audit = new AuditLog(opts.pool, { filePath: opts.auditFile, maxBatch: opts.auditMaxBatch })
  await audit.start()
  const core = new Core(new PgStorage(opts.pool), audit, opts.settings)
  core.addRoutes(ALL_ROUTES)
  return core
}
