import type { FastifyInstance } from 'fastify'
import { callVault, requireRelayedCaller, type CdeApiDeps } from './cde-forward.js'

/**
 * `POST /v1/cde/admin/index-key/replace` (console via proxy-internal; the operator CLI acts as console):
 * start replacing the card vault's PAN index key (its cryptoperiod). The processor is the group-2 identity
 * the card vault takes operator work from; this route is how an operator reaches it. The answer is key ids
 * only (`{ keyId, retiringKeyId }`); 409 `index_key_retiring` while a previous replacement still retires.
 */
export function registerCdeAdmin(app: FastifyInstance, deps: CdeApiDeps): void {
  app.post(
    '/v1/cde/admin/index-key/replace',
    { config: { callers: ['proxy-internal'] } },
    async (request) => {
      requireRelayedCaller(request, deps.zoneMap, 'console')
      const r = await callVault<{ keyId: number; retiringKeyId: number }>(deps, { method: 'POST', path: '/v1/admin/index-key/replace' })
      // Who asked, for the audit trail: the relayed caller's identity (the operator's console), and the key ids.
      request.log.info({ relayedCaller: request.headers['x-cardplane-caller'], indexKeyId: r.keyId, retiringKeyId: r.retiringKeyId }, 'PAN index key replacement requested')
      // Only the key ids leave towards the main cluster, whatever else the card vault's answer might carry.
      return { keyId: r.keyId, retiringKeyId: r.retiringKeyId }
    },
  )
}
