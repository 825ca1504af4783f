import { baseConfigSchema, loadConfig, type Env } from '@cardplane/service-kit'
import { Type, type Static } from '@sinclair/typebox'

/** Key service configuration (the only module that reads the environment). */
export const configSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    DATABASE_URL: Type.String({
      default: 'postgres://postgres@127.0.0.1:5432/cardplane_keyvault',
      description: "PostgreSQL URL of the key service's own database (barrier storage and audit log).",
    }),
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

/** Parsed key service configuration. */
export type KeyvaultConfig = Static<typeof configSchema>

export function loadKeyvaultConfig(env: Env = process.env): KeyvaultConfig {
  return loadConfig(configSchema, env)
}
