import type { AdviceResult, AuthorizationAdvice, AuthorizationRequest, Decision, ReversalRequest } from '@cardplane/contracts'
import { AdviceResult as AdviceResultSchema, Decision as DecisionSchema, ReversalResult, checkContract } from '@cardplane/contracts'
import { UpstreamError, answeredError, batchResults, type ServiceClient } from '@cardplane/service-kit'
import { batchedCalls, type CallBatching } from './batched-calls.js'
import type { Decider, MainClusterPosting } from '../pipeline/types.js'

const DECISIONS_ROUTE = { callee: 'authorizations', method: 'POST', path: '/v1/decisions' } as const

/** The decision the main cluster answered, checked against the contract. */
function checkedDecision(body: unknown): Decision {
  const checked = checkContract(DecisionSchema, body)
  if (!checked.ok) throw new UpstreamError('decision_invalid', { retry: false, context: DECISIONS_ROUTE })
  return checked.value
}

/**
 * `authorizations POST /v1/decisions` through proxy-internal, bounded by the remaining deadline.
 *
 * Under load the decisions go in batches: up to `concurrency` calls are in flight; a decision arriving
 * while one is free goes alone at once (`POST /v1/decisions`, as when the link is quiet), and decisions
 * arriving while all are busy leave together in one `POST /v1/decisions/batch` when a call returns: one
 * HTTP exchange through the proxy and into authorizations instead of one per decision. Each answer is
 * per decision (a refused one fails alone and its authorisation stands in); the call as a whole runs
 * until the latest deadline of its decisions, and each decision's participant still gives up at its own.
 * A call still running after `slotReleaseMs` (50 ms) frees its slot: a slow call (a card lock held elsewhere,
 * a slow ledger) delays the decisions behind it by that at most.
 */
export function mainClusterDecider(proxyInternal: ServiceClient, batching: CallBatching = { max: 1, concurrency: 64 }): Decider {
  const decide = batchedCalls<AuthorizationRequest, Decision>(batching, {
    one: async (request, timeoutMs) =>
      checkedDecision((await proxyInternal.request<unknown>({ method: 'POST', path: '/v1/decisions', body: request, timeoutMs })).body),
    async many(requests, timeoutMs) {
      const path = '/v1/decisions/batch'
      const res = await proxyInternal.request<{ results?: unknown }>({ method: 'POST', path, body: { requests }, timeoutMs })
      return batchResults<{ statusCode: number; body: unknown }>(res.body, requests.length, { ...DECISIONS_ROUTE, path }).map((r) => {
        try {
          if (r.statusCode !== 200) throw answeredError(DECISIONS_ROUTE, r.statusCode, r.body)
          return { ok: true, value: checkedDecision(r.body) }
        } catch (error) {
          return { ok: false, error }
        }
      })
    },
  })
  return { decide }
}

/** `authorizations POST /v1/advices` through proxy-internal (store-and-forward delivery). */
export function mainClusterAdviceDelivery(proxyInternal: ServiceClient): (advice: AuthorizationAdvice) => Promise<AdviceResult> {
  return async (advice) => {
    const res = await proxyInternal.request<AdviceResult>({ method: 'POST', path: '/v1/advices', body: advice, timeoutMs: 10_000 })
    return res.body
  }
}

/** `authorizations POST /v1/reversals` through proxy-internal; the answer is checked against the contract. */
export async function postReversal(proxyInternal: ServiceClient, reversal: ReversalRequest, timeoutMs: number): Promise<ReversalResult> {
  const res = await proxyInternal.request<unknown>({ method: 'POST', path: '/v1/reversals', body: reversal, timeoutMs })
  const checked = checkContract(ReversalResult, res.body)
  if (!checked.ok || checked.value.reversalId !== reversal.reversalId) {
    throw new UpstreamError('reversal_result_invalid', { retry: false, context: { callee: 'authorizations', method: 'POST', path: '/v1/reversals' } })
  }
  return checked.value
}

/** Reversals and advices posted at once, within what is left of the frame's deadline. */
export function mainClusterPosting(proxyInternal: ServiceClient): MainClusterPosting {
  return {
    reverse: (reversal, timeoutMs) => postReversal(proxyInternal, reversal, timeoutMs),
    async advise(advice, timeoutMs) {
      const res = await proxyInternal.request<unknown>({ method: 'POST', path: '/v1/advices', body: advice, timeoutMs })
      const checked = checkContract(AdviceResultSchema, res.body)
      if (!checked.ok || checked.value.adviceId !== advice.adviceId) {
        throw new UpstreamError('advice_result_invalid', { retry: false, context: { callee: 'authorizations', method: 'POST', path: '/v1/advices' } })
      }
      return checked.value
    },
  }
}

/** Store-and-forward delivery of a queued reversal advice. */
export function mainClusterReversalDelivery(proxyInternal: ServiceClient): (reversal: ReversalRequest) => Promise<ReversalResult> {
  return (reversal) => postReversal(proxyInternal, reversal, 10_000)
}
