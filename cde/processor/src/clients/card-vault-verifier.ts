import type { VerificationResult } from '@cardplane/contracts'
import { UpstreamError, answeredError, batchResults, type ServiceClient } from '@cardplane/service-kit'
import { batchedCalls, type CallBatching } from './batched-calls.js'
import type { CardCheck, CardResolver, CardVerifier } from '../pipeline/types.js'

/** The card vault's `POST /v1/verify` answer (its own vocabulary). */
interface VaultVerifyResult {
  cardId: string
  lastFour: string
  programId: string
  cardStatus: string
  results: {
    expiry: 'ok' | 'expired' | 'mismatch' | 'not_present'
    cvv2: 'match' | 'mismatch' | 'not_present'
    cvv: 'match' | 'mismatch' | 'not_present'
    icvv: 'match' | 'mismatch' | 'not_present'
    pin: 'match' | 'mismatch' | 'not_present' | 'locked' | 'tries_exceeded' | 'not_set' | 'no_zpk'
    arqc: 'valid' | 'invalid' | 'not_present' | 'not_supported'
  }
  arpc?: string
}

function pinResult(v: VaultVerifyResult['results']['pin']): VerificationResult {
  switch (v) {
    case 'match':
    case 'mismatch':
    case 'not_present':
    case 'locked':
      return v
    case 'tries_exceeded':
      return 'locked'
    case 'not_set':
    case 'no_zpk':
      return 'not_checked'
  }
}

function arqcResult(v: VaultVerifyResult['results']['arqc']): VerificationResult {
  switch (v) {
    case 'valid':
      return 'match'
    case 'invalid':
      return 'mismatch'
    case 'not_present':
      return 'not_present'
    case 'not_supported':
      return 'not_checked'
  }
}

function expiryResult(v: VaultVerifyResult['results']['expiry']): VerificationResult {
  switch (v) {
    case 'ok':
      return 'match'
    case 'expired':
    case 'mismatch':
      return 'mismatch'
    case 'not_present':
      return 'not_present'
  }
}

/** The vault's answer in the unified verification vocabulary. */
function toCheck(v: VaultVerifyResult): CardCheck {
  const check: CardCheck = {
    cardId: v.cardId,
    lastFour: v.lastFour,
    programId: v.programId,
    expired: v.results.expiry === 'expired',
    results: {
      cvv: v.results.cvv,
      cvv2: v.results.cvv2,
      icvv: v.results.icvv,
      pin: pinResult(v.results.pin),
      arqc: arqcResult(v.results.arqc),
      expiry: expiryResult(v.results.expiry),
    },
  }
  if (v.arpc) check.arpc = v.arpc
  return check
}

const VERIFY_ROUTE = { callee: 'card-vault', method: 'POST', path: '/v1/verify' } as const

/**
 * The card vault client: sends the sensitive envelope (the only hop that ever carries it) and maps the
 * vault's results to the unified verification vocabulary. A 404 means the PAN is not one of ours.
 *
 * Under load the verifications go in batches, as the decisions do: up to `concurrency` calls in flight, a
 * verification finding one free goes alone (`POST /v1/verify`), the others leave together in one
 * `POST /v1/verify/batch` when a call returns or has run `slotReleaseMs`. One result per verification.
 */
export function cardVaultVerifier(client: ServiceClient, batching: CallBatching = { max: 1, concurrency: 64 }): CardVerifier {
  const verify = batchedCalls<Record<string, unknown>, CardCheck | undefined>(batching, {
    async one(body, timeoutMs) {
      try {
        return toCheck((await client.request<VaultVerifyResult>({ method: 'POST', path: '/v1/verify', body, timeoutMs })).body)
      } catch (err) {
        if (err instanceof UpstreamError && (err.context as { statusCode?: number }).statusCode === 404) return undefined
        throw err
      }
    },
    async many(items, timeoutMs) {
      const path = '/v1/verify/batch'
      const res = await client.request<{ results?: unknown }>({ method: 'POST', path, body: { items }, timeoutMs })
      type Answer = { statusCode: number; result?: VaultVerifyResult; error?: unknown }
      return batchResults<Answer>(res.body, items.length, { ...VERIFY_ROUTE, path }).map((r) => {
        if (r.statusCode === 200 && r.result) return { ok: true, value: toCheck(r.result) }
        if (r.statusCode === 404) return { ok: true, value: undefined }
        return { ok: false, error: answeredError(VERIFY_ROUTE, r.statusCode, { error: r.error }) }
      })
    },
  })
  return {
    verify: (envelope, input, timeoutMs) =>
      verify({ ...envelope.reveal(), ...(envelope.reveal().pinBlock ? { zpkName: input.zpkName } : {}) }, timeoutMs),
  }
}

/**
 * The card vault's `POST /v1/resolve`: PAN → card ID, nothing checked (reversals only need to know whose
 * authorisation they reverse). Only the PAN leaves the envelope. A 404 means the PAN is not one of ours.
 */
export function cardVaultResolver(client: ServiceClient): CardResolver {
  return {
    async resolve(envelope, timeoutMs): Promise<string | undefined> {
      try {
        const res = await client.request<{ cardId: string }>({ method: 'POST', path: '/v1/resolve', body: { pan: envelope.reveal().pan }, timeoutMs })
        return res.body.cardId
      } catch (err) {
        if (err instanceof UpstreamError && (err.context as { statusCode?: number }).statusCode === 404) return undefined
        throw err
      }
    },
  }
}
