import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { createServiceApp, registerProbe, type Logger } from '@cardplane/service-kit'
import type { JwtBundleSource, JwtSvidSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import type { ProxyInternalConfig } from './config.js'
import { DEFAULT_ROUTES, validateRoutes } from './domain/route-table.js'
import { registerForward } from './routes/forward.js'

/** What buildApp needs; main.ts creates these, tests pass their own. */
export interface ProxyInternalDeps {
  config: Pick<ProxyInternalConfig, 'LOG_LEVEL'> & Partial<ProxyInternalConfig>
  /** Trust bundles for validating callers' JWT-SVIDs (the Workload API client). */
  bundles: JwtBundleSource
  /** This proxy's own JWT-SVIDs towards upstreams (default: `bundles`, when it is a Workload API client). */
  svids?: JwtSvidSource
  zoneMap: ZoneMap
  /** Upstream base URL by service name (default: devPort on loopback). */
  upstreamUrl?: (service: string) => string
  logger?: Logger
}

/**
 * The proxy-internal HTTP app. Routes:
 * - every allowlisted route of the table (domain/route-table.ts or PROXY_ROUTES), forwarded upstream
 * - `GET /v1/probe`: callers allowed by the zone map's edges into `proxy-internal`
 * - `/healthz`, `/readyz`, `/metrics` (public)
 */
export async function buildApp(deps: ProxyInternalDeps): Promise<FastifyInstance> {
  const c = deps.config
  const maxBodyBytes = c.PROXY_MAX_BODY_BYTES ?? 65_536
  const app = await createServiceApp({
    service: 'proxy-internal',
    config: deps.config,
    bundles: deps.bundles,
    zoneMap: deps.zoneMap,
    bodyLimit: maxBodyBytes,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  registerProbe(app)
  const routes = validateRoutes(c.PROXY_ROUTES ?? DEFAULT_ROUTES, deps.zoneMap.services.map((s) => s.name))
  const svids = deps.svids ?? (deps.bundles as unknown as JwtSvidSource)
  const extraHosts = (c.PROXY_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean)
  // Host names are tied to the port actually bound (tests listen on port 0).
  let hosts: string[] | undefined
  const allowedHosts = (): string[] => {
    if (hosts) return hosts
    const port = (app.server.address() as AddressInfo | null)?.port
    if (!port) return extraHosts
    hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `proxy-internal:${port}`, 'proxy-internal', ...extraHosts]
    return hosts
  }
  registerForward(app, {
    routes,
    svids,
    upstreamUrl: deps.upstreamUrl ?? ((name) => `http://127.0.0.1:${deps.zoneMap.services.find((s) => s.name === name)?.devPort ?? 0}`),
    allowedHosts,
    maxHeaderBytes: c.PROXY_MAX_HEADER_BYTES ?? 8192,
    maxHeaderCount: c.PROXY_MAX_HEADER_COUNT ?? 64,
    maxBodyBytes,
    maxResponseBytes: c.PROXY_MAX_RESPONSE_BYTES ?? 1_048_576,
    timeoutMs: c.PROXY_UPSTREAM_TIMEOUT_MS ?? 10_000,
  })
  return app
}
