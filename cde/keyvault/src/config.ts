import { baseConfigSchema, loadConfig, type Env } from '@cardplane/service-kit'
import { Type, type Static } from '@sinclair/typebox'

/** Key service configuration (the only module that reads the environment). */
export const configSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    KEYVAULT_DB_POOL_SIZE: Type.Integer({ default: 10, minimum: 2, maximum: 100, description: 'PostgreSQL pool size (one extra connection holds the audit writer lock).' }),
    KEYVAULT_TOKEN_TTL_SEC: Type.Integer({ default: 900, minimum: 60, maximum: 86_400, description: 'Lifetime of tokens issued by `auth/spiffe/login`, seconds.' }),
    KEYVAULT_SPIFFE_ROLES: Type.Record(Type.String(), Type.Array(Type.String()), {
      default: { 'card-vault': ['card-vault'] },
      description: 'JSON `{ "<service>": ["<policy>", ...] }`: policies a workload gets at `auth/spiffe/login`. The zone map must also allow the caller.',
    }),
    KEYVAULT_AUDIT_FILE: Type.Optional(Type.String({ description: 'JSON-lines copy of the audit log (mode 0600). Unset: database only.' })),
    KEYVAULT_AUDIT_MAX_BATCH: Type.Integer({ default: 1000, minimum: 1, maximum: 10_000, description: 'Most audit rows committed in one INSERT (group commit).' }),
  }),
])

/** Development default for DATABASE_URL (the base schema leaves it optional). */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/cardplane_keyvault'

/** Parsed key service configuration; DATABASE_URL is always set. */
export type KeyvaultConfig = Static<typeof configSchema> & { DATABASE_URL: string }

export function loadKeyvaultConfig(env: Env = process.env): KeyvaultConfig {
  const c = loadConfig(configSchema, env)
  return { ...c, DATABASE_URL: c.DATABASE_URL ?? DEFAULT_DATABASE_URL }
}
