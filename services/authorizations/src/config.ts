import { Type, type Static } from '@sinclair/typebox'
import { baseConfigSchema, ConfigError, loadConfig, type Env } from '@cardplane/service-kit'

/** The authorizations service's environment: the base variables plus its own. */
export const authorizationsConfigSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    LEDGER_TIMEOUT_MS: Type.Integer({
      minimum: 50,
      maximum: 10_000,
      default: 800,
      description: 'Deadline of one ledger call during a decision (ms); must fit in the processor deadline (1.5 s).',
    }),
    VELOCITY_KEY_PREFIX: Type.String({
      minLength: 1,
      default: 'cardplane:authorizations',
      description: 'Prefix of the Redis keys holding velocity counters.',
    }),
    DB_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 20, description: 'PostgreSQL connections in the pool.' }),
    DECISION_BATCH_MAX: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 32,
      description: 'Most decisions taken together in one transaction and one ledger call (1: every decision alone).',
    }),
    DECISION_BATCH_CONCURRENCY: Type.Integer({
      minimum: 1,
      maximum: 200,
      default: 4,
      description:
        'Decision batches running at once; a decision arriving while one is free starts at once, the others wait and leave together. Keep below DB_POOL_SIZE.',
    }),
  }),
])

/** Parsed configuration (DATABASE_URL and REDIS_URL required). */
export type AuthorizationsConfig = Static<typeof authorizationsConfigSchema> & { DATABASE_URL: string; REDIS_URL: string }

/** Read and validate the configuration; the service needs its database and Redis. */
export function loadAuthorizationsConfig(env: Env = process.env): AuthorizationsConfig {
  const config = loadConfig(authorizationsConfigSchema, env)
  const missing: { name: string; problem: string }[] = []
  if (!config.DATABASE_URL) missing.push({ name: 'DATABASE_URL', problem: 'is required by authorizations' })
  if (!config.REDIS_URL) missing.push({ name: 'REDIS_URL', problem: 'is required by authorizations (velocity counters)' })
  if (missing.length > 0) throw new ConfigError(missing)
  return config as AuthorizationsConfig
}
