import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/**
 * Environment of console: the base variables every service reads. Its own variables join this object
 * (each with a `description`) as the service grows. Only this file reads `process.env`.
 */
export const consoleConfigSchema = Type.Composite([baseConfigSchema, Type.Object({})])

/** Parsed console configuration. */
export type ConsoleConfig = Static<typeof consoleConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadConsoleConfig(env: Env = process.env): ConsoleConfig {
  return loadConfig(consoleConfigSchema, env)
}
