import type { FastifyInstance } from 'fastify'
import type { KeyManager } from '../vault/key-manager.js'

/**
 * Operator actions. `POST /v1/admin/index-key/replace`: start replacing the PAN index key (a new index key
 * from the key service becomes active, the previous one retiring until the rotation pass has re-indexed its
 * cards). 409 `index_key_retiring` while a previous replacement is still retiring. Callers: the processor,
 * the only group-2 service that does the card vault's operator work (the zone map lets no other identity in);
 * operators reach it through the processor's `POST /v1/cde/admin/index-key/replace` (console via proxy-internal).
 */
export function registerAdmin(app: FastifyInstance, keys: KeyManager): void {
  app.post(
    '/v1/admin/index-key/replace',
    {
      config: { callers: ['processor'] },
      schema: {
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['keyId', 'retiringKeyId'],
            properties: { keyId: { type: 'integer' }, retiringKeyId: { type: 'integer' } },
          },
        },
      },
    },
    async (request) => {
      const r = await keys.replaceIndexKey()
      request.log.info({ indexKeyId: r.keyId, retiringKeyId: r.retiringKeyId }, 'PAN index key replacement started')
      return r
    },
  )
}
