import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { CardId, OpaqueId } from '@cardplane/contracts'
import type { ServiceContext } from '../context.js'
import { CardStateBody, SpendControls } from '../domain/card-state.js'
import { CardNotFoundError } from '../errors.js'
import { findCard, programControls, upsertCard, upsertProgram } from '../store/authorizations-store.js'

const CardParams = Type.Object({ cardId: CardId })
type CardParams = Static<typeof CardParams>
const ProgramParams = Type.Object({ programId: OpaqueId })
type ProgramParams = Static<typeof ProgramParams>
const ProgramBody = Type.Object({ controls: SpendControls }, { additionalProperties: false })
type ProgramBody = Static<typeof ProgramBody>

/** Card authorisation state and program controls, pushed by `cards` (and `console`). */
export function registerCardRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.put<{ Params: CardParams; Body: CardStateBody }>(
    '/v1/cards/:cardId',
    { config: { callers: ['cards', 'console'] }, schema: { params: CardParams, body: CardStateBody } },
    async (request) => upsertCard(ctx.db, { cardId: request.params.cardId, ...request.body }, ctx.now()),
  )

  app.get<{ Params: CardParams }>(
    '/v1/cards/:cardId',
    { config: { callers: ['cards', 'console'] }, schema: { params: CardParams } },
    async (request) => {
      const card = await findCard(ctx.db, request.params.cardId)
      if (!card) throw new CardNotFoundError(request.params.cardId)
      return card
    },
  )

  app.put<{ Params: ProgramParams; Body: ProgramBody }>(
    '/v1/programs/:programId',
    { config: { callers: ['cards', 'console'] }, schema: { params: ProgramParams, body: ProgramBody } },
    async (request) => {
      await upsertProgram(ctx.db, request.params.programId, request.body.controls, ctx.now())
      return { programId: request.params.programId, controls: await programControls(ctx.db, request.params.programId) }
    },
  )
}
