import type { FastifyInstance } from 'fastify'
import { reportError } from '@cardplane/service-kit'
import type { CardVault, VerifyRequest } from '../vault/card-vault.js'

const hex = (max: number) => ({ type: 'string', pattern: `^[0-9A-Fa-f]{1,${max}}$` }) as const

/**
 * The verify answer (VerifyResult). Serialised from this schema (fastify compiles it): faster than
 * JSON.stringify, and only these fields can ever leave, whatever the result object carries.
 */
const verifyAnswer = {
  type: 'object',
  additionalProperties: false,
  required: ['cardId', 'lastFour', 'programId', 'cardStatus', 'results'],
  properties: {
    cardId: { type: 'string' },
    lastFour: { type: 'string' },
    programId: { type: 'string' },
    cardStatus: { type: 'string' },
    results: {
      type: 'object',
      additionalProperties: false,
      required: ['expiry', 'cvv2', 'cvv', 'icvv', 'pin', 'arqc'],
      properties: {
        expiry: { type: 'string' },
        cvv2: { type: 'string' },
        cvv: { type: 'string' },
        icvv: { type: 'string' },
        pin: { type: 'string' },
        arqc: { type: 'string' },
      },
    },
    arpc: { type: 'string' },
  },
} as const

/** One verification request: the sensitive envelope and the ZPK name. */
const verifyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['pan'],
  properties: {
    pan: { type: 'string', pattern: '^[0-9]{12,19}$' },
    expiry: { type: 'string', pattern: '^[0-9]{4}$' },
    serviceCode: { type: 'string', pattern: '^[0-9]{3}$' },
    track2: { type: 'string', pattern: '^[0-9]{12,19}[=D][0-9]{0,30}$' },
    cvv2: { type: 'string', pattern: '^[0-9]{3,4}$' },
    pinBlock: hex(32),
    pinBlockFormat: { type: 'integer', minimum: 0, maximum: 4 },
    zpkName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    emv: { type: 'object', additionalProperties: hex(512), propertyNames: { pattern: '^[0-9A-F]{2,4}$' } },
    arc: hex(4),
    csu: hex(8),
  },
} as const

/** Most verifications in one `POST /v1/verify/batch`. */
export const MAX_VERIFICATIONS_PER_CALL = 64

/**
 * `POST /v1/verify`: the processor's authorisation checks. Body: the sensitive envelope (+ ZPK name);
 * answer: card ID, last four, program, results, ARPC. `POST /v1/resolve`: PAN -> card ID only.
 */
export function registerVerify(app: FastifyInstance, vault: CardVault): void {
  app.post<{ Body: VerifyRequest }>(
    '/v1/verify',
    {
      config: { callers: ['processor'] },
      schema: {
        body: verifyBody,
        response: { 200: verifyAnswer },
      },
    },
    async (request) => vault.verify(request.body),
  )

  // Several verifications in one call (the processor under load): each runs as `POST /v1/verify` would
  // (the vault's PAN lookups and CVV checks batch across them anyway); one result per item, in order, as
  // { statusCode, result } or { statusCode, error }. The answer is serialised from its schema, as above.
  app.post<{ Body: { items: VerifyRequest[] } }>(
    '/v1/verify/batch',
    {
      config: { callers: ['processor'] },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['items'],
          properties: { items: { type: 'array', minItems: 1, maxItems: MAX_VERIFICATIONS_PER_CALL, items: verifyBody } },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['results'],
            properties: {
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['statusCode'],
                  properties: {
                    statusCode: { type: 'integer' },
                    result: verifyAnswer,
                    error: {
                      type: 'object',
                      additionalProperties: false,
                      properties: { code: { type: 'string' }, message: { type: 'string' } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const settled = await Promise.allSettled(request.body.items.map((item) => vault.verify(item)))
      return {
        results: settled.map((s) => {
          if (s.status === 'fulfilled') return { statusCode: 200, result: s.value }
          const { statusCode, body } = reportError(request, s.reason)
          return { statusCode, error: body.error }
        }),
      }
    },
  )

  app.post<{ Body: { pan: string } }>(
    '/v1/resolve',
    {
      config: { callers: ['processor'] },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['pan'],
          properties: { pan: { type: 'string', pattern: '^[0-9]{12,19}$' } },
        },
      },
    },
    async (request, reply) => {
      const cardId = await vault.resolve(request.body.pan)
      if (!cardId) return reply.code(404).send({ error: { code: 'card_not_found', message: 'card not found' } })
      return { cardId }
    },
  )
}
