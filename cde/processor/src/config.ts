import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/**
 * Environment of processor: the base variables every service reads. Its own variables join this object
 * (each with a `description`) as the service grows. Only this file reads `process.env`.
 */
export const processorConfigSchema = Type.Composite([baseConfigSchema, Type.Object({})])

/** Parsed processor configuration. */
export type ProcessorConfig = Static<typeof processorConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadProcessorConfig(env: Env = process.env): ProcessorConfig {
  return loadConfig(processorConfigSchema, env)
}
