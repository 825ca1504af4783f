import type { FastifyInstance } from 'fastify'
import type { CardVault } from '../vault/card-vault.js'
import { cardIdParams } from './schemas.js'

/** `GET /v1/cards/:cardId`: non-sensitive card view (last four, BIN, expiry, status, key version). */
export function registerGetCard(app: FastifyInstance, vault: CardVault): void {
  app.get<{ Params: { cardId: string } }>(
    '/v1/cards/:cardId',
    { config: { callers: ['processor', 'manufacturing'] }, schema: { params: cardIdParams } },
    async (request) => vault.getCard(request.params.cardId),
  )
}
