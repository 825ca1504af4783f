/**
 * One load generator for the HTTP benchmark: `concurrency` loops of `payments/cvv/verify` through
 * node-vault with a keep-alive agent. Runs in a worker thread (several can share the client side).
 */
import http from 'node:http'
import { parentPort, workerData } from 'node:worker_threads'
import { vaultTransport } from '@cardplane/vault-transport'
import vault from 'node-vault'

/** Parameters sent by the benchmark's main thread. */
export interface LoadParams {
  url: string
  token: string
  seconds: number
  concurrency: number
  /**
   * node-vault's HTTP layer: `axios` (its default, with a keep-alive `http.Agent`) or `undici`
   * (`@cardplane/vault-transport` through node-vault's documented `request-promise` option).
   */
  transport: 'axios' | 'undici'
  /** Items per call: 1 = one verification per request; above 1 = Vault's `batch_input` with that many. */
  batch: number
}

/** What a load generator reports. */
export interface LoadResult {
  ok: number
  failed: number
  latencies: number[]
}

export async function runLoad(p: LoadParams): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: p.concurrency })
  const undici = p.transport === 'undici' ? vaultTransport(p.url, { connections: p.concurrency, timeoutMs: 30_000 }) : undefined
  const cv = undici
    ? vault({ endpoint: p.url, noCustomHTTPVerbs: true, token: p.token, 'request-promise': undici })
    : vault({ endpoint: p.url, noCustomHTTPVerbs: true, token: p.token, requestOptions: { httpAgent: agent } })
  const item = { pan: '4123456789012345', expiry: '2912', service_code: '101', cvv: '123' }
  const body = p.batch > 1 ? { batch_input: Array.from({ length: p.batch }, () => item) } : item
  let ok = 0
  let failed = 0
  const latencies: number[] = []
  const until = Date.now() + p.seconds * 1000
  await Promise.all(
    Array.from({ length: p.concurrency }, async () => {
      while (Date.now() < until) {
        const t0 = performance.now()
        try {
          const r = (await cv.write('payments/cvv/verify/bench-cvk', body)) as { data?: { valid?: unknown; batch_results?: { valid?: unknown }[] } }
          const verdicts = p.batch > 1 ? (r.data?.batch_results ?? []) : [r.data ?? {}]
          if (verdicts.length !== p.batch || verdicts.some((v) => typeof v.valid !== 'boolean')) throw new Error('no verdict')
          ok++
        } catch {
          failed++
        }
        // Every 16th call's latency (a sample; all calls are counted).
        if (((ok + failed) & 15) === 0) latencies.push(performance.now() - t0)
      }
    }),
  )
  agent.destroy()
  await undici?.close()
  return { ok, failed, latencies }
}

if (parentPort && workerData) {
  const port = parentPort
  void runLoad(workerData as LoadParams).then((r) => port.postMessage(r))
}
