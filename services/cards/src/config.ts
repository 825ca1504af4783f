import { fileURLToPath } from 'node:url'
import { ConfigError, Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

const DEFAULT_PROGRAMS = fileURLToPath(new URL('../config/programs.json', import.meta.url))

/** Environment of cards. Only this file reads `process.env`. */
export const cardsConfigSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    // Optional rather than defaulted in the schema: the default is an absolute path of this checkout,
    // resolved in loadCardsConfig, so the generated docs do not depend on where the repo lives.
    CARDS_PROGRAMS_FILE: Type.Optional(Type.String({
      description: 'Card programs (JSON): BIN ranges, product, country, currency, expiry, PIN try limit, key names. Default: `services/cards/config/programs.json`.',
    })),
    CARDS_REVEAL_BASE_URL: Type.String({
      pattern: '^https://',
      default: 'https://127.0.0.1:8443',
      description: 'Public HTTPS base of proxy-public where cardholders open one-time reveal / PIN pages.',
    }),
    CARDS_REGISTER_AUTHORIZATIONS: Type.Boolean({
      default: true,
      description: 'Register each issued card with authorizations (`PUT /v1/cards/:cardId`).',
    }),
    CARDS_DB_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'PostgreSQL connections in the pool.' }),
  }),
])

/** Parsed cards configuration. */
export type CardsConfig = Static<typeof cardsConfigSchema> & { DATABASE_URL: string; CARDS_PROGRAMS_FILE: string }

/** Read and validate the configuration once, at startup. */
export function loadCardsConfig(env: Env = process.env): CardsConfig {
  const config = loadConfig(cardsConfigSchema, env)
  if (!config.DATABASE_URL) throw new ConfigError([{ name: 'DATABASE_URL', problem: 'is required by cards' }])
  return { ...config, CARDS_PROGRAMS_FILE: config.CARDS_PROGRAMS_FILE ?? DEFAULT_PROGRAMS } as CardsConfig
}
