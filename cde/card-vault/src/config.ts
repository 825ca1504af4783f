import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/**
 * Environment of card-vault: the base variables every service reads. Its own variables join this object
 * (each with a `description`) as the service grows. Only this file reads `process.env`.
 */
export const cardVaultConfigSchema = Type.Composite([baseConfigSchema, Type.Object({})])

/** Parsed card-vault configuration. */
export type CardVaultConfig = Static<typeof cardVaultConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadCardVaultConfig(env: Env = process.env): CardVaultConfig {
  return loadConfig(cardVaultConfigSchema, env)
}
