import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '@cardplane/service-kit'
import { issueCards, type IssuanceClients } from '../domain/issuance.js'
import type { Program } from '../domain/programs.js'
import type { CardStore } from '../store/card-store.js'

const cardIdParams = { type: 'object', required: ['cardId'], properties: { cardId: { type: 'string', pattern: '^card_[0-9a-z]{26}$' } } } as const

/** What the card routes need. */
export interface CardRouteDeps {
  programs: ReadonlyMap<string, Program>
  store: CardStore
  clients: IssuanceClients
  /** Public HTTPS base of proxy-public, where the cardholder's browser redeems sessions. */
  revealBaseUrl: string
}

/**
 * - `GET /v1/programs` (console): the configured programs (no key material, only key names)
 * - `POST /v1/cards` (console): issue cards for a customer
 * - `GET /v1/cards/:cardId` (console, authorizations): card by ID, with the CDE's view
 * - `POST /v1/cards/:cardId/reveal-sessions`, `.../pin-sessions`, `.../pin-reveal-sessions` (console): one-time URLs
 * - `POST /v1/cards/:cardId/manufacturing-status` (proxy-internal on behalf of manufacturing)
 */
export function registerCardRoutes(app: FastifyInstance, deps: CardRouteDeps): void {
  app.get('/v1/programs', { config: { callers: ['console'] } }, async () => ({ programs: [...deps.programs.values()] }))

  app.post<{ Body: { programId: string; customerId: string; accountId?: string; count?: number; cardholderName?: string } }>(
    '/v1/cards',
    {
      config: { callers: ['console'] },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['programId', 'customerId'],
          properties: {
            programId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
            customerId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
            accountId: { type: 'string', pattern: '^[A-Za-z0-9_:.-]{1,128}$' },
            count: { type: 'integer', minimum: 1, maximum: 100 },
            cardholderName: { type: 'string', maxLength: 26, pattern: "^[A-Za-z .'/-]*$" },
          },
        },
      },
    },
    async (request, reply) => {
      const b = request.body
      const cards = await issueCards(deps.programs, deps.store, deps.clients, {
        programId: b.programId,
        customerId: b.customerId,
        count: b.count ?? 1,
        ...(b.accountId ? { accountId: b.accountId } : {}),
        ...(b.cardholderName ? { cardholderName: b.cardholderName } : {}),
      })
      return reply.code(201).send({ cards })
    },
  )

  app.get<{ Params: { cardId: string } }>(
    '/v1/cards/:cardId',
    { config: { callers: ['console', 'authorizations'] }, schema: { params: cardIdParams } },
    async (request) => {
      const card = await deps.store.get(request.params.cardId)
      if (!card) throw new NotFoundError('card_not_found', { publicMessage: 'card not found' })
      const cde = await deps.clients.cde.request<Record<string, unknown>>({ method: 'GET', path: `/v1/cde/cards/${card.cardId}` })
      return { ...card, cde: cde.body }
    },
  )

  for (const [suffix, page] of [
    ['reveal-sessions', 'reveal'],
    ['pin-sessions', 'pin'],
    ['pin-reveal-sessions', 'pin-reveal'],
  ] as const) {
    app.post<{ Params: { cardId: string } }>(
      `/v1/cards/:cardId/${suffix}`,
      { config: { callers: ['console'] }, schema: { params: cardIdParams } },
      async (request, reply) => {
        const card = await deps.store.get(request.params.cardId)
        if (!card) throw new NotFoundError('card_not_found', { publicMessage: 'card not found' })
        const s = await deps.clients.cde.request<{ token: string; expiresAt: string }>({ method: 'POST', path: `/v1/cde/cards/${card.cardId}/${suffix}` })
        const base = deps.revealBaseUrl.replace(/\/$/, '')
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .send({ cardId: card.cardId, url: `${base}/${page}/${s.body.token}`, jsonUrl: `${base}/${page}/${s.body.token}.json`, expiresAt: s.body.expiresAt })
      },
    )
  }

  app.post<{ Params: { cardId: string }; Body: { status: string } }>(
    '/v1/cards/:cardId/manufacturing-status',
    {
      config: { callers: ['proxy-internal'] },
      schema: {
        params: cardIdParams,
        body: { type: 'object', additionalProperties: false, required: ['status'], properties: { status: { enum: ['ordered', 'produced', 'shipped', 'failed'] } } },
      },
    },
    async (request) => {
      const ok = await deps.store.setManufacturingStatus(request.params.cardId, request.body.status)
      if (!ok) throw new NotFoundError('card_not_found', { publicMessage: 'card not found' })
      return { cardId: request.params.cardId, manufacturingStatus: request.body.status }
    },
  )
}
