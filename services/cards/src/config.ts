import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/**
 * Environment of cards: the base variables every service reads. Its own variables join this object
 * (each with a `description`) as the service grows. Only this file reads `process.env`.
 */
export const cardsConfigSchema = Type.Composite([baseConfigSchema, Type.Object({})])

/** Parsed cards configuration. */
export type CardsConfig = Static<typeof cardsConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadCardsConfig(env: Env = process.env): CardsConfig {
  return loadConfig(cardsConfigSchema, env)
}
