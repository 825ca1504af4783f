import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'

/** Environment of proxy-internal. Only this file reads `process.env`. */
export const proxyInternalConfigSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    PROXY_ROUTES: Type.Optional(
      Type.Array(Type.Unknown(), {
        description:
          'JSON array replacing the built-in allowlist: `[{ "id", "caller", "methods": ["POST"], "path": "/v1/x/:id", "upstream", "maxBodyBytes"? }]` (services by zone-map name).',
      }),
    ),
    PROXY_ALLOWED_HOSTS: Type.Optional(
      Type.String({
        description:
          'Comma-separated Host header values accepted besides `127.0.0.1:<port>`, `localhost:<port>` and `proxy-internal[:<port>]` (e.g. the Kubernetes service name).',
      }),
    ),
    PROXY_MAX_HEADER_BYTES: Type.Integer({ minimum: 1024, maximum: 65_536, default: 8192, description: 'Largest request header block (names + values), bytes.' }),
    PROXY_MAX_HEADER_COUNT: Type.Integer({ minimum: 8, maximum: 500, default: 64, description: 'Most request header lines.' }),
    PROXY_MAX_BODY_BYTES: Type.Integer({ minimum: 0, maximum: 16_777_216, default: 65_536, description: 'Largest request body, bytes (a route may set less).' }),
    PROXY_MAX_RESPONSE_BYTES: Type.Integer({ minimum: 1024, maximum: 67_108_864, default: 1_048_576, description: 'Largest upstream response body, bytes.' }),
    PROXY_UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000, description: 'Deadline for an upstream answer, ms.' }),
  }),
])

/** Parsed proxy-internal configuration. */
export type ProxyInternalConfig = Static<typeof proxyInternalConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadProxyInternalConfig(env: Env = process.env): ProxyInternalConfig {
  return loadConfig(proxyInternalConfigSchema, env)
}
