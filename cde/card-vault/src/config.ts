import { ConfigError, Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/** Environment of card-vault. Only this file reads `process.env`. */
export const cardVaultConfigSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    CARD_VAULT_RECORDS_KEK: Type.String({
      default: 'card-data',
      description: 'Key-service transit key (aes256-gcm96) that wraps the data keys sealing card records.',
    }),
    CARD_VAULT_INDEX_KEK: Type.String({
      default: 'card-data',
      description: 'Key-service transit key that wraps the PAN index (HMAC) key.',
    }),
    CARD_VAULT_PIN_KEY: Type.String({
      default: 'pin-storage',
      description: 'Key-service PIN storage key (type `pek`): stored PINs are ISO 9564 format 4 blocks under it (PIN set and PIN reveal sessions).',
    }),
    CARD_VAULT_REVEAL_TTL_SECONDS: Type.Integer({
      minimum: 10,
      maximum: 3600,
      default: 300,
      description: 'Lifetime of a one-time card reveal / PIN set / PIN reveal session token, seconds.',
    }),
    CARD_VAULT_REWRAP_INTERVAL_MS: Type.Integer({
      minimum: 0,
      default: 30_000,
      description: 'How often the rotation job checks for a newer key-service key version and rewraps records (0: off).',
    }),
    CARD_VAULT_KEY_REFRESH_MS: Type.Integer({
      minimum: 100,
      default: 30_000,
      description:
        'How long an instance uses the active data keys it read before reading them again (ms): a PAN index key replaced by another instance is picked up within this time, and a replaced index key is retired only once its successor is older than this.',
    }),
    CARD_VAULT_DB_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 20, description: 'PostgreSQL connections in the pool.' }),
    CARD_VAULT_CVV_BATCH_MAX: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 64,
      description: 'CVV verifications per key-service call: checks arriving together go as one `batch_input` call (each still audited on its own). 1: one call per check.',
    }),
  }),
])

/** Parsed card-vault configuration (DATABASE_URL required). */
export type CardVaultConfig = Static<typeof cardVaultConfigSchema> & { DATABASE_URL: string }

/** Read and validate the configuration once, at startup. */
export function loadCardVaultConfig(env: Env = process.env): CardVaultConfig {
  const config = loadConfig(cardVaultConfigSchema, env)
  if (!config.DATABASE_URL) throw new ConfigError([{ name: 'DATABASE_URL', problem: 'is required by the card vault' }])
  return config as CardVaultConfig
}
