import type { VerificationResult } from '@cardplane/contracts'
import { UpstreamError, createBatcher, type ServiceClient } from '@cardplane/service-kit'
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

/** How the verifier groups verifications under load (as the decider does, see main-cluster.ts). */
export interface VerifyBatching {
  /** Most verifications in one call (`POST /v1/verify/batch`); 1 turns batching off. */
  max: number
  /** Calls in flight at once. */
  concurrency: number
  /** A call still running after this long stops counting against `concurrency` (default 50 ms). */
  slotReleaseMs?: number
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
export function cardVaultVerifier(client: ServiceClient, batching: VerifyBatching = { max: 1, concurrency: 64 }): CardVerifier {
  type Item = { body: Record<string, unknown>; deadline: number }
  const one = async (body: Record<string, unknown>, timeoutMs: number): Promise<CardCheck | undefined> => {
    try {
      return toCheck((await client.request<VaultVerifyResult>({ method: 'POST', path: '/v1/verify', body, timeoutMs })).body)
    } catch (err) {
      if (err instanceof UpstreamError && (err.context as { statusCode?: number }).statusCode === 404) return undefined
      throw err
    }
  }
  const batcher = createBatcher<Item, CardCheck | undefined>({
    maxBatch: batching.max,
    maxConcurrent: batching.concurrency,
    slotReleaseMs: batching.slotReleaseMs ?? 50,
    async run(items) {
      const timeoutMs = Math.max(1, Math.max(...items.map((i) => i.deadline)) - Date.now())
      if (items.length === 1) return [{ ok: true, value: await one(items[0]!.body, timeoutMs) }]
      type Answer = { statusCode: number; result?: VaultVerifyResult; error?: { code?: string } }
      const res = await client.request<{ results?: Answer[] }>({
        method: 'POST',
        path: '/v1/verify/batch',
        body: { items: items.map((i) => i.body) },
        timeoutMs,
      })
      const results = res.body.results
      if (!Array.isArray(results) || results.length !== items.length) {
        throw new UpstreamError('upstream_bad_response', { retry: false, context: { ...VERIFY_ROUTE, path: '/v1/verify/batch' } })
      }
      return results.map((r) => {
        if (r.statusCode === 200 && r.result) return { ok: true, value: toCheck(r.result) }
        if (r.statusCode === 404) return { ok: true, value: undefined }
        const upstreamCode = r.error?.code
        return {
          ok: false,
          error: new UpstreamError('upstream_error', {
            message: `card-vault answered ${r.statusCode}`,
            retry: r.statusCode >= 500 || r.statusCode === 429,
            context: { ...VERIFY_ROUTE, statusCode: r.statusCode, ...(typeof upstreamCode === 'string' ? { upstreamCode } : {}) },
          }),
        }
      })
    },
  })
  return {
    verify(envelope, input, timeoutMs): Promise<CardCheck | undefined> {
      const body = { ...envelope.reveal(), ...(envelope.reveal().pinBlock ? { zpkName: input.zpkName } : {}) }
      if (batching.max <= 1) return one(body, timeoutMs)
      return batcher.submit({ body, deadline: Date.now() + timeoutMs })
    },
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
