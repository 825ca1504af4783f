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
    PUBLIC_FRAME_COALESCE_MS: Type.Integer({
      minimum: 0,
      maximum: 50,
      default: 15,
      description:
        'Micro-batching at the edge: while the links are busy (another frame on any link within this many ms), hold frames up to this long and forward them together in one request, so they travel the path together (fewer process wake-ups per authorisation: at 500/s 2.0-2.4 ms of CPU per authorisation against 3.0-3.3 without). A frame that finds the links quiet goes at once. 0: off.',
    }),
    PUBLIC_FRAME_COALESCE_EXTEND_MS: Type.Integer({
      minimum: 0,
      maximum: 200,
      default: 30,
      description:
        'Hold longer while the processor is behind: when a hold of PUBLIC_FRAME_COALESCE_MS ends with two or more forwarded requests still unanswered, keep holding until one is answered, a batch is full, or this many more ms have passed. A saturated path gets fewer, larger groups instead of a queue of requests (at 500/s on a saturated machine: no stand-ins in six runs against 64-349 per run without, p99 107-199 ms against 353-463). 0: off.',
    }),
    PUBLIC_REVEAL_PORT: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 8443,
      description: 'HTTPS port of the cardholder pages (`/reveal/:token`, `/pin/:token`, `/pin-reveal/:token`, each with a `.json` variant); 0: ephemeral.',
    }),
    PUBLIC_REVEAL_HOST: Type.String({ default: '127.0.0.1', description: 'Interface of the reveal page listener.' }),
    PUBLIC_REVEAL_ENABLED: Type.Boolean({ default: true, description: 'Serve the reveal page at all.' }),
    PUBLIC_REVEAL_TLS_CERT: Type.Optional(Type.String({ description: 'PEM certificate of the reveal page. Unset: a self-signed dev certificate (openssl) in PUBLIC_REVEAL_TLS_DIR.' })),
    PUBLIC_REVEAL_TLS_KEY: Type.Optional(Type.String({ description: 'PEM private key matching PUBLIC_REVEAL_TLS_CERT.' })),
    PUBLIC_REVEAL_TLS_DIR: Type.Optional(
      Type.String({ description: 'Where the self-signed dev certificate is generated and reused. Unset: `<os tmpdir>/cardplane-reveal-tls`.' }),
    ),
  }),
])

/** Parsed proxy-public configuration. */
export type ProxyPublicConfig = Static<typeof proxyPublicConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadProxyPublicConfig(env: Env = process.env): ProxyPublicConfig {
  return loadConfig(proxyPublicConfigSchema, env)
}
