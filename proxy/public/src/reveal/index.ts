/**
 * Wiring of the reveal page into the proxy-public app: started when the app is ready, closed with it.
 * The processor client uses the app's Workload API client as its SVID source.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createServiceClient, serviceUrl } from '@cardplane/service-kit'
import type { JwtBundleSource, JwtSvidSource } from '@cardplane/spiffe'
import type { ProxyPublicConfig } from '../config.js'
import { revealTls } from './certificate.js'
import { startRevealServer } from './reveal-server.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** URL of the reveal page once listening (undefined when disabled). */
    revealUrl?: string
  }
}

/** Start the HTTPS reveal page with the app (no-op when disabled or without an SVID source). */
export function startReveal(app: FastifyInstance, config: Partial<ProxyPublicConfig>, bundles: JwtBundleSource): void {
  const svids = bundles as unknown as Partial<JwtSvidSource>
  if (config.PUBLIC_REVEAL_ENABLED === false || config.PUBLIC_REVEAL_PORT === undefined || typeof svids.fetchJwtSvid !== 'function') return
  app.decorate('revealUrl', undefined)
  const processor = createServiceClient({
    callee: 'processor',
    zoneMap: app.zoneMap,
    svids: svids as JwtSvidSource,
    baseUrl: serviceUrl(config as { CARDPLANE_SERVICE_URLS?: Record<string, string> }, app.zoneMap, 'processor'),
    timeoutMs: 10_000,
  })
  let stop: (() => Promise<void>) | undefined
  app.addHook('onReady', async () => {
    const tls = await revealTls({
      ...(config.PUBLIC_REVEAL_TLS_CERT ? { certFile: config.PUBLIC_REVEAL_TLS_CERT } : {}),
      ...(config.PUBLIC_REVEAL_TLS_KEY ? { keyFile: config.PUBLIC_REVEAL_TLS_KEY } : {}),
      dir: config.PUBLIC_REVEAL_TLS_DIR ?? join(tmpdir(), 'cardplane-reveal-tls'),
    })
    const { server, url } = await startRevealServer({
      host: config.PUBLIC_REVEAL_HOST ?? '127.0.0.1',
      port: config.PUBLIC_REVEAL_PORT ?? 8443,
      tls,
      processor,
      logger: app.log,
    })
    app.revealUrl = url
    stop = () => server.close()
  })
  app.addHook('onClose', async () => {
    await stop?.()
    await processor.close()
  })
}
