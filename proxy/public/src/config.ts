import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'
import { DEV_VISA_LINK, LinkListenerSchema } from './tcp/link-config.js'

/**
 * Environment of proxy-public: the base variables every service reads. Its own variables join this object
 * (each with a `description`) as the service grows. Only this file reads `process.env`.
 */
export const proxyPublicConfigSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    PUBLIC_LINKS: Type.Array(LinkListenerSchema, {
      default: [DEV_VISA_LINK],
      description:
        'JSON array of scheme TCP links: `{ name, scheme, port, host?, framing: "vmlh", allowedPeers, tls?: { certFile, keyFile }, maxFrameSize, readTimeoutMs, idleTimeoutMs, maxConnections, maxInFlight }`. Default: the dev Visa link on port 7400, loopback peers only.',
    }),
  }),
])

/** Parsed proxy-public configuration. */
export type ProxyPublicConfig = Static<typeof proxyPublicConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadProxyPublicConfig(env: Env = process.env): ProxyPublicConfig {
  return loadConfig(proxyPublicConfigSchema, env)
}
