import type { FastifyInstance } from 'fastify'
import { callVault, requireRelayedCaller, type CdeApiDeps } from './cde-forward.js'

/**
 * `POST /v1/cde/cards` (cards via proxy-internal): issue cards of a program in the card vault.
 * The body (program definition, count, optional name) is validated by the card vault; the answer
 * carries card IDs, last four, BIN and expiry only.
 */
export function registerCdeIssueCard(app: FastifyInstance, deps: CdeApiDeps): void {
  app.post<{ Body: Record<string, unknown> }>(
    '/v1/cde/cards',
    {
      config: { callers: ['proxy-internal'] },
      schema: { body: { type: 'object', required: ['program'], properties: { program: { type: 'object' } } } },
    },
    async (request, reply) => {
      requireRelayedCaller(request, deps.zoneMap, 'cards')
      const body = await callVault<{ cards: unknown[] }>(deps, { method: 'POST', path: '/v1/cards', body: request.body, timeoutMs: 15_000 })
      return reply.code(201).send(body)
    },
  )
}
