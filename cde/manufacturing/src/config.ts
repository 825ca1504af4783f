import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/**
 * Environment of manufacturing: the base variables every service reads. Its own variables join this object
 * (each with a `description`) as the service grows. Only this file reads `process.env`.
 */
export const manufacturingConfigSchema = Type.Composite([baseConfigSchema, Type.Object({})])

/** Parsed manufacturing configuration. */
export type ManufacturingConfig = Static<typeof manufacturingConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadManufacturingConfig(env: Env = process.env): ManufacturingConfig {
  return loadConfig(manufacturingConfigSchema, env)
}
