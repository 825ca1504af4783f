import type { TSchema } from '@sinclair/typebox'
import { AdviceResult, AuthorizationAdvice } from './advice.js'
import { AuthorizationRequest } from './authorization-request.js'
import { Decision } from './decision.js'
import { ReversalRequest, ReversalResult } from './reversal.js'

/** The top-level messages, by file name, exported as JSON Schema to `schemas/<name>.json`. */
export const ALL_SCHEMAS: Readonly<Record<string, TSchema>> = {
  'authorization-request': AuthorizationRequest,
  decision: Decision,
  'authorization-advice': AuthorizationAdvice,
  'advice-result': AdviceResult,
  'reversal-request': ReversalRequest,
  'reversal-result': ReversalResult,
}
