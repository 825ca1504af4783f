import type { FastifyInstance } from 'fastify'
import { allowedCallers } from '@cardplane/zones'

/** Answer of `GET /v1/probe`. */
export interface ProbeResponse {
  service: string
  caller: { spiffeId: string; service: string; group: number } | null
}

/**
 * `GET /v1/probe`, callable by exactly the callers the zone map gives this service and by nobody else.
 * It proves identity and zone wiring end to end (the zone conformance test calls it for every pair).
 */
export function registerProbe(app: FastifyInstance): void {
  const callers = allowedCallers(app.zoneMap, app.service.name).map((s) => s.name)
  app.get('/v1/probe', { config: { callers } }, async (request): Promise<ProbeResponse> => {
    return { service: app.service.name, caller: request.caller ?? null }
  })
}
