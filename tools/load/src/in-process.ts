import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { newVisaHeader } from '@cardplane/iso8583'
import { AuthorizationPipeline, DuplicateWindow, type LinkConfig } from '@cardplane/processor'
import { authorizationRequest, summarise, VisaLinkClient, type Percentiles } from '@cardplane/tool-sim'
import { VisaConnector } from '@cardplane/visa'
import { deleteKeysByPrefix } from '@cardplane/tool-leak-scan/platform'

/** The processor's own cost per authorisation, without the network hops around it. */
export interface InProcessResult {
  name: string
  concurrency: number
  durationS: number
  authorisations: number
  perS: number
  /** CPU time of this process per authorisation (decode, duplicate window in Redis, encode, bookkeeping). */
  cpuUsPerAuth: number
  latencyMs: Percentiles
}

/**
 * Run the real pipeline (connector decode, duplicate window on the real Redis, card-authentication and
 * respond participants, encode) with the card vault and the main cluster answering at once in process.
 */
export async function inProcessPipeline(durationS: number, concurrency = 64): Promise<InProcessResult> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true })
  const prefix = `bench:inproc:${randomUUID()}:`
  const connector = new VisaConnector()
  const link: LinkConfig = { name: 'visa', scheme: 'visa', zpkName: 'zpk' }
  const pipeline = new AuthorizationPipeline({
    connector,
    duplicates: new DuplicateWindow({ redis, prefix, windowMs: 60_000 }),
    verifier: {
      verify: async (envelope) => ({
        cardId: 'card_bench',
        lastFour: envelope.lastFour,
        programId: 'bench',
        results: { cvv: 'not_present', cvv2: 'match', icvv: 'not_present', pin: 'not_present', arqc: 'not_present', expiry: 'match' },
      }),
    },
    decider: {
      decide: async (r) => ({ outcome: 'approve', approvedAmount: r.amounts.cardholderBilling, authorizationId: r.authorizationId, source: 'issuer', decidedAt: new Date().toISOString() }),
    },
    advices: { record: async () => undefined },
    standInRules: { mode: 'decline' },
    redis,
    redisPrefix: prefix,
    deadlineMs: 1500,
  })
  const header = newVisaHeader('400000', '000001')
  const card = { pan: '4539914000000006', expiry: '2912', cvv2: '123' }
  let stan = 0
  const frame = (): Buffer =>
    connector.encodeRequest(
      header,
      authorizationRequest(card, {}, { kind: 'ecommerce', amountMinor: 100, currency: 'EUR', mcc: '5411', country: 'DE', stan: String(++stan % 1_000_000).padStart(6, '0'), transmissionTime: VisaLinkClient.transmissionTime(), acquirerId: String(400000 + Math.floor(stan / 1_000_000)) }),
    )
  const latencies: number[] = []
  let errors = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const until = t0 + durationS * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const f = frame()
        const s = performance.now()
        const r = await pipeline.handleFrame(link, f)
        latencies.push(performance.now() - s)
        if (r.action !== 'answer' || r.de39 !== '00') errors++
      }
    }),
  )
  const elapsed = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  await deleteKeysByPrefix(redis, prefix)
  redis.disconnect()
  if (errors) throw new Error(`${errors} in-process authorisations were not approved`)
  return {
    name: 'processor pipeline in process (real Redis; card vault and main cluster answering at once)',
    concurrency,
    durationS: Math.round(elapsed * 10) / 10,
    authorisations: latencies.length,
    perS: Math.round(latencies.length / elapsed),
    cpuUsPerAuth: Math.round((cpu.user + cpu.system) / latencies.length),
    latencyMs: summarise(latencies),
  }
}
