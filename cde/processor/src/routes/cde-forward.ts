/**
 * Shared plumbing of the processor's CDE API (routes `cde-*.ts`): the card-vault client call with
 * 4xx answers passed through as the same status and code (a missing card is a 404 for the main
 * cluster too, not a 502), and the check that a request relayed by proxy-internal was made on behalf
 * of the expected main-cluster service (`X-Cardplane-Caller`, trusted only from proxy-internal).
 */
import type { FastifyRequest } from 'fastify'
import { CardplaneError, ForbiddenError, isCardplaneError, type ServiceClient, type ServiceRequest } from '@cardplane/service-kit'
import { serviceByName, type ZoneMap } from '@cardplane/zones'

/** What the CDE API routes need. */
export interface CdeApiDeps {
  /** Client of `card-vault` (this processor's JWT-SVID). */
  cardVault: ServiceClient
  zoneMap: ZoneMap
}

/** Call the card vault; a 4xx answer becomes the same status and code here. */
export async function callVault<T>(deps: CdeApiDeps, req: ServiceRequest): Promise<T> {
  try {
    const res = await deps.cardVault.request<T>(req)
    return res.body
  } catch (err) {
    if (isCardplaneError(err)) {
      const ctx = err.context as { statusCode?: number; upstreamCode?: string }
      if (ctx.statusCode !== undefined && ctx.statusCode >= 400 && ctx.statusCode < 500 && ctx.statusCode !== 401 && ctx.statusCode !== 403) {
        throw new CardplaneError(ctx.upstreamCode ?? 'card_vault_refused', ctx.statusCode, {
          publicMessage: err.publicMessage === 'upstream failure' ? 'request refused' : err.publicMessage,
          cause: err,
        })
      }
    }
    throw err
  }
}

/** The original caller behind proxy-internal must be `expected` (service name in the zone map). */
export function requireRelayedCaller(request: FastifyRequest, zoneMap: ZoneMap, expected: string): void {
  const header = request.headers['x-cardplane-caller']
  const want = serviceByName(zoneMap, expected).spiffeId
  if (request.caller?.service !== 'proxy-internal' || header !== want) {
    throw new ForbiddenError('relayed_caller_not_allowed', { publicMessage: 'original caller not allowed on this route' })
  }
}
