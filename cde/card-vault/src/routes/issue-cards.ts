import type { FastifyInstance } from 'fastify'
import type { CardVault, IssuePin } from '../vault/card-vault.js'
import { pinSchema, programSchema, type ProgramBody } from './schemas.js'

/** `POST /v1/cards`: issue cards of a program (registered on first use). Returns no PAN. */
export function registerIssueCards(app: FastifyInstance, vault: CardVault): void {
  const known = new Map<string, string>()
  app.post<{ Body: { program: ProgramBody; count?: number; cardholderName?: string; pin?: IssuePin } }>(
    '/v1/cards',
    {
      config: { callers: ['processor'] },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['program'],
          properties: {
            program: programSchema,
            count: { type: 'integer', minimum: 1, maximum: 100 },
            cardholderName: { type: 'string', maxLength: 26, pattern: "^[A-Za-z .'/-]*$" },
            pin: pinSchema,
          },
        },
      },
    },
    async (request, reply) => {
      const { program: p, count = 1, cardholderName, pin } = request.body
      const def = JSON.stringify(p)
      if (known.get(p.id) !== def) {
        await vault.ensureProgram({
          id: p.id,
          bin: p.bin,
          panLength: p.panLength,
          accountStart: p.accountStart,
          rangeSize: BigInt(p.rangeSize),
          validityMonths: p.validityMonths,
          serviceCode: p.serviceCode,
          pinTryLimit: p.pinTryLimit,
          cvkName: p.cvkName,
          pvkName: p.pvkName,
          pvki: p.pvki ?? 1,
          imkAcName: p.imkAcName ?? null,
          arqcProfile: p.arqcProfile ?? null,
        })
        known.set(p.id, def)
      }
      const cards = await vault.issue(p.id, { count, ...(cardholderName ? { cardholderName } : {}), ...(pin ? { pin } : {}) })
      return reply.code(201).send({ cards })
    },
  )
}
