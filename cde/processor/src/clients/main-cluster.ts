import type { AdviceResult, AuthorizationAdvice, AuthorizationRequest, Decision, ReversalRequest } from '@cardplane/contracts'
import { AdviceResult as AdviceResultSchema, Decision as DecisionSchema, ReversalResult, checkContract } from '@cardplane/contracts'
import { UpstreamError, type ServiceClient } from '@cardplane/service-kit'
import type { Decider, MainClusterPosting } from '../pipeline/types.js'

/** `authorizations POST /v1/decisions` through proxy-internal, bounded by the remaining deadline. */
export function mainClusterDecider(proxyInternal: ServiceClient): Decider {
  return {
    async decide(request: AuthorizationRequest, timeoutMs: number): Promise<Decision> {
      const res = await proxyInternal.request<unknown>({ method: 'POST', path: '/v1/decisions', body: request, timeoutMs })
      const checked = checkContract(DecisionSchema, res.body)
      if (!checked.ok) {
        throw new UpstreamError('decision_invalid', { retry: false, context: { callee: 'authorizations', method: 'POST', path: '/v1/decisions' } })
      }
      return checked.value
    },
  }
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
