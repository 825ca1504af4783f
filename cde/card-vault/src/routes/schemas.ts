import { ARQC_PROFILES } from '@cardplane/emv'

/** JSON schemas of the card vault's request bodies (fastify validates before handlers run). */

/** Program definition as sent by the processor on behalf of services/cards. */
export const programSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'bin', 'panLength', 'accountStart', 'rangeSize', 'validityMonths', 'serviceCode', 'pinTryLimit', 'cvkName', 'pvkName'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    bin: { type: 'string', pattern: '^[0-9]{6,8}$' },
    panLength: { type: 'integer', minimum: 13, maximum: 19 },
    accountStart: { type: 'string', pattern: '^[0-9]{1,12}$' },
    rangeSize: { type: 'string', pattern: '^[1-9][0-9]{0,12}$' },
    validityMonths: { type: 'integer', minimum: 1, maximum: 120 },
    serviceCode: { type: 'string', pattern: '^[0-9]{3}$' },
    pinTryLimit: { type: 'integer', minimum: 1, maximum: 10 },
    cvkName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    pvkName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    pvki: { type: 'integer', minimum: 0, maximum: 9 },
    imkAcName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    arqcProfile: { enum: ARQC_PROFILES },
  },
} as const

/** A PIN as a PIN block under a zone PIN key (chosen PIN), or just the ZPK (random PIN). */
export const pinSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['zpkName'],
  properties: {
    zpkName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    pinBlock: { type: 'string', pattern: '^[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?$' },
    pinBlockFormat: { type: 'integer', minimum: 0, maximum: 4 },
  },
} as const

/** The program fields as the routes receive them. */
export interface ProgramBody {
  id: string
  bin: string
  panLength: number
  accountStart: string
  rangeSize: string
  validityMonths: number
  serviceCode: string
  pinTryLimit: number
  cvkName: string
  pvkName: string
  pvki?: number
  imkAcName?: string
  arqcProfile?: string
}

export const cardIdParams = {
  type: 'object',
  required: ['cardId'],
  properties: { cardId: { type: 'string', pattern: '^card_[0-9a-z]{26}$' } },
} as const

export const tokenBody = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: { token: { type: 'string', maxLength: 100 } },
} as const
