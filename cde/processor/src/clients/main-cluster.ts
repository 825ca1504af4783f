import type { AdviceResult, AuthorizationAdvice, AuthorizationRequest, Decision } from '@cardplane/contracts'
import { Decision as DecisionSchema, checkContract } from '@cardplane/contracts'
import { UpstreamError, type ServiceClient } from '@cardplane/service-kit'
import type { Decider } from '../pipeline/types.js'

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
