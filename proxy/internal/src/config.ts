import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/**
 * Environment of proxy-internal: the base variables every service reads. Its own variables join this object
 * (each with a `description`) as the service grows. Only this file reads `process.env`.
 */
export const proxyInternalConfigSchema = Type.Composite([baseConfigSchema, Type.Object({})])

/** Parsed proxy-internal configuration. */
export type ProxyInternalConfig = Static<typeof proxyInternalConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadProxyInternalConfig(env: Env = process.env): ProxyInternalConfig {
  return loadConfig(proxyInternalConfigSchema, env)
}
