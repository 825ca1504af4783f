import { Redis } from 'ioredis'
import { Counter, Histogram } from 'prom-client'
import { createServiceClient, serviceUrl, type Logger } from '@cardplane/service-kit'
import type { JwtSvidSource } from '@cardplane/spiffe'
import type { ZoneMap } from '@cardplane/zones'
import { VisaConnector } from '@cardplane/visa'
import { cardVaultResolver, cardVaultVerifier } from './clients/card-vault-verifier.js'
import { mainClusterAdviceDelivery, mainClusterDecider, mainClusterPosting, mainClusterReversalDelivery } from './clients/main-cluster.js'
import type { ProcessorConfig } from './config.js'
import { AdviceQueue } from './pipeline/advice-queue.js'
import { DuplicateWindow } from './pipeline/duplicate-window.js'
import { passthroughHandler } from './pipeline/passthrough.js'
import { NetworkMessageFlows, type MessageEvent } from './pipeline/network-messages.js'
import { AuthorizationPipeline, type PipelineEvent } from './pipeline/pipeline.js'
import { StageTraceFile, type StageTraceEntry } from './pipeline/stage-trace.js'
import type { LinkConfig } from './pipeline/types.js'

/** The authorisation side of the processor, wired from config (main.ts and end-to-end tests). */
export interface Authorization {
  links: ReadonlyMap<string, LinkConfig>
  pipeline: AuthorizationPipeline
  passthrough: ReturnType<typeof passthroughHandler>
  advices: AdviceQueue
  /** Seconds per pipeline participant; register it in the app's metrics registry. */
  participantSeconds: Histogram
  /** Authorisations answered 91 without work (late on arrival, or the pipeline full); register it too. */
  shedTotal: Counter
  /** Readiness: Redis answers (duplicate window, stand-in counters and the advice queue live there). */
  ready(): Promise<void>
  close(): Promise<void>
}

type AuthorizationConfig = Pick<
  ProcessorConfig,
  | 'CARDPLANE_SERVICE_URLS'
  | 'REDIS_URL'
  | 'PROCESSOR_LINKS'
  | 'AUTH_DEADLINE_MS'
  | 'PROCESSOR_MAX_IN_FLIGHT'
  | 'DUPLICATE_WINDOW_MS'
  | 'STAND_IN_RULES'
  | 'PROCESSOR_REDIS_PREFIX'
  | 'ADVICE_RETRY_MS'
  | 'PROCESSOR_STAGE_TRACE_FILE'
  | 'DECISION_BATCH_MAX'
  | 'DECISION_CALLS_IN_FLIGHT'
  | 'VERIFY_BATCH_MAX'
  | 'VERIFY_CALLS_IN_FLIGHT'
>

/** Logs pipeline events: ids and codes only (the events carry no card data). */
function eventLogger(logger: Logger | undefined): ((e: PipelineEvent) => void) | undefined {
  if (!logger) return undefined
  return (e) => {
    // Shed answers come in floods under overload: counted by a metric, logged only at debug.
    if (e.kind === 'answered' || e.kind === 'replayed' || e.kind === 'shed') logger.debug(e, 'authorisation')
    else logger.warn(e, 'authorisation')
  }
}

/** Logs reversal and advice events: ids and codes only; queued and unanswered ones at warn. */
function messageLogger(logger: Logger | undefined): ((e: MessageEvent) => void) | undefined {
  if (!logger) return undefined
  return (e) => {
    if (e.kind === 'queued' || e.kind === 'unanswered' || e.kind === 'participant_failed') logger.warn(e, 'network message')
    else logger.info(e, 'network message')
  }
}

/** Create the clients, the Redis connections, the advice queue (delivering) and the pipeline. */
export function createAuthorization(config: AuthorizationConfig, zoneMap: ZoneMap, svids: JwtSvidSource, logger?: Logger): Authorization {
  const redisUrl = config.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const redis = new Redis(redisUrl, { enableAutoPipelining: true })
  const bullRedis = new Redis(redisUrl, { maxRetriesPerRequest: null })
  const cardVault = createServiceClient({ callee: 'card-vault', zoneMap, svids, baseUrl: serviceUrl(config, zoneMap, 'card-vault'), connections: 64 })
  const proxyInternal = createServiceClient({ callee: 'proxy-internal', zoneMap, svids, baseUrl: serviceUrl(config, zoneMap, 'proxy-internal'), connections: 64 })
  const advices = new AdviceQueue({
    connection: bullRedis,
    prefix: `${config.PROCESSOR_REDIS_PREFIX}bull`,
    deliver: mainClusterAdviceDelivery(proxyInternal),
    deliverReversal: mainClusterReversalDelivery(proxyInternal),
    backoffMs: config.ADVICE_RETRY_MS,
    onError: (err) => logger?.warn({ code: (err as { code?: unknown }).code, message: err.message }, 'advice queue: Redis connection error (reconnecting)'),
  })
  advices.start()
  const logEvent = eventLogger(logger)
  const shedTotal = new Counter({
    name: 'authorization_shed_total',
    help: 'Authorisations answered issuer_unavailable (91) without work: late on arrival, or the pipeline full (overload).',
    labelNames: ['reason'],
    registers: [],
  })
  const onEvent = (e: PipelineEvent): void => {
    if (e.kind === 'shed') shedTotal.inc({ reason: e.code ?? 'unknown' })
    logEvent?.(e)
  }
  const participantSeconds = new Histogram({
    name: 'authorization_participant_seconds',
    help: 'Time spent in each pipeline participant (authorisations: duplicate-check, verify-card, card-authentication, decide, respond; reversals and advices: resolve-card, reverse, identify-card, post-advice).',
    labelNames: ['participant'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5],
    registers: [],
  })
  const connector = new VisaConnector()
  const duplicates = new DuplicateWindow({ redis, prefix: config.PROCESSOR_REDIS_PREFIX, windowMs: config.DUPLICATE_WINDOW_MS })
  const verifier = cardVaultVerifier(cardVault, { max: config.VERIFY_BATCH_MAX, concurrency: config.VERIFY_CALLS_IN_FLIGHT })
  const messages = new NetworkMessageFlows({
    connector,
    duplicates,
    resolver: cardVaultResolver(cardVault),
    verifier,
    mainCluster: mainClusterPosting(proxyInternal),
    store: advices,
    deadlineMs: config.AUTH_DEADLINE_MS,
    observe: (participant, ms) => participantSeconds.observe({ participant }, ms / 1000),
    onEvent: messageLogger(logger),
  })
  const stageTrace = config.PROCESSOR_STAGE_TRACE_FILE ? new StageTraceFile(config.PROCESSOR_STAGE_TRACE_FILE) : undefined
  const pipeline = new AuthorizationPipeline({
    connector,
    duplicates,
    verifier,
    messages,
    decider: mainClusterDecider(proxyInternal, { max: config.DECISION_BATCH_MAX, concurrency: config.DECISION_CALLS_IN_FLIGHT }),
    advices,
    standInRules: config.STAND_IN_RULES,
    redis,
    redisPrefix: config.PROCESSOR_REDIS_PREFIX,
    deadlineMs: config.AUTH_DEADLINE_MS,
    maxInFlight: config.PROCESSOR_MAX_IN_FLIGHT,
    observe: (participant, ms) => participantSeconds.observe({ participant }, ms / 1000),
    onEvent,
    ...(stageTrace ? { trace: (entry: StageTraceEntry) => stageTrace.record(entry) } : {}),
  })
  // Fetch the SVIDs for both callees now rather than on the first authorisation's clock.
  for (const callee of ['card-vault', 'proxy-internal']) {
    const id = zoneMap.services.find((s) => s.name === callee)?.spiffeId
    if (id) svids.fetchJwtSvid(id).catch(() => undefined)
  }
  const links = new Map(config.PROCESSOR_LINKS.map((l) => [l.name, l as LinkConfig]))
  return {
    links,
    pipeline,
    passthrough: passthroughHandler({ cardVault, proxyInternal }),
    advices,
    participantSeconds,
    shedTotal,
    async ready() {
      await redis.ping()
    },
    async close() {
      await pipeline.settle()
      await stageTrace?.close()
      await advices.close()
      await Promise.allSettled([cardVault.close(), proxyInternal.close()])
      redis.disconnect()
      bullRedis.disconnect()
    },
  }
}
