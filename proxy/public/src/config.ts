import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/**
 * Environment of proxy-public: the base variables every service reads. Its own variables join this object
 * (each with a `description`) as the service grows. Only this file reads `process.env`.
 */
export const proxyPublicConfigSchema = Type.Composite([baseConfigSchema, Type.Object({})])

/** Parsed proxy-public configuration. */
export type ProxyPublicConfig = Static<typeof proxyPublicConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadProxyPublicConfig(env: Env = process.env): ProxyPublicConfig {
  return loadConfig(proxyPublicConfigSchema, env)
}
