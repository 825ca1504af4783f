import { Type, type Static } from '@sinclair/typebox'
import { baseConfigSchema, ConfigError, loadConfig, type Env } from '@cardplane/service-kit'

/** The ledger's environment: the base variables plus its own. */
export const ledgerConfigSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    HOLD_TTL_SECONDS: Type.Integer({
      minimum: 60,
      default: 7 * 24 * 3600,
      description: 'How long an authorisation hold counts against the balance before it expires (seconds, default 7 days).',
    }),
    DB_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'PostgreSQL connections in the pool.' }),
  }),
])

/** Parsed ledger configuration (DATABASE_URL required). */
export type LedgerConfig = Static<typeof ledgerConfigSchema> & { DATABASE_URL: string }

/** Read and validate the ledger's configuration; the ledger cannot run without its database. */
export function loadLedgerConfig(env: Env = process.env): LedgerConfig {
  const config = loadConfig(ledgerConfigSchema, env)
  if (!config.DATABASE_URL) throw new ConfigError([{ name: 'DATABASE_URL', problem: 'is required by the ledger' }])
  return config as LedgerConfig
}
