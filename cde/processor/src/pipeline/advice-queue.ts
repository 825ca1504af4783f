import { createHash } from 'node:crypto'
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq'
import type { AdviceResult, AuthorizationAdvice, ReversalRequest, ReversalResult } from '@cardplane/contracts'
import type { AdviceSink, ReversalSink } from './types.js'

/** The BullMQ job id of an advice. */
export function jobIdOf(adviceId: string): string {
  return createHash('sha256').update(adviceId).digest('hex').slice(0, 40)
}

/** The BullMQ job id of a reversal (its own namespace: a reversalId never collides with an adviceId). */
export function reversalJobIdOf(reversalId: string): string {
  return jobIdOf(`reversal:${reversalId}`)
}

/** Job data: an advice (job name `advice`, the original format) or a reversal (job name `reversal`). */
export type QueuedMessage = AuthorizationAdvice | ReversalRequest

/** Options of the store-and-forward queue. */
export interface AdviceQueueOptions {
  connection: ConnectionOptions
  /** BullMQ key prefix (tests use a unique one). */
  prefix: string
  /** Queue name. */
  name?: string
  /** Delivery: post one advice to the main cluster; must be idempotent per adviceId (it is, by contract). */
  deliver: (advice: AuthorizationAdvice) => Promise<AdviceResult>
  /** Delivery of a queued reversal (0420 advice); idempotent per reversalId. Required to record reversals. */
  deliverReversal?: (reversal: ReversalRequest) => Promise<ReversalResult>
  /** First retry delay (ms), doubled each attempt (default 1000). */
  backoffMs?: number
  /** Delivery attempts before the job is kept as failed for an operator (default 50, ~days with backoff). */
  attempts?: number
  /** Called after a successful delivery (metrics, tests). */
  onDelivered?: (advice: AuthorizationAdvice, result: AdviceResult) => void
  /** Called after a queued reversal was delivered. */
  onReversalDelivered?: (reversal: ReversalRequest, result: ReversalResult) => void
  /**
   * Redis connection errors of the queue and the worker (a restart of Redis, a network blip). BullMQ
   * re-emits them as `error` events, which would end the process without a listener; they are handed
   * here instead (the caller logs them) while ioredis reconnects.
   */
  onError?: (err: Error) => void
}

/**
 * Durable store-and-forward (jPOS SAF) of what the scheme has already been told and the main cluster must
 * still hear: the processor's stand-in decisions, Visa STIP advices (0120) and reversal advices (0420)
 * that arrived while the main cluster could not be reached. BullMQ keeps each one in Redis until
 * `authorizations` accepts it (`POST /v1/advices`, `POST /v1/reversals`). The job id is a hash of the
 * advice or reversal id, so recording the same message twice stores it once; the main cluster
 * deduplicates by the same ids, so a delivery retried after a lost answer is applied once. Job data is
 * unified data only: card ID and check results, never card data.
 */
export class AdviceQueue implements AdviceSink, ReversalSink {
  readonly queue: Queue<QueuedMessage>
  private worker: Worker<QueuedMessage, AdviceResult | ReversalResult> | undefined
  private readonly opts: AdviceQueueOptions

  constructor(opts: AdviceQueueOptions) {
    this.opts = opts
    this.queue = new Queue<QueuedMessage>(opts.name ?? 'advices', { connection: opts.connection, prefix: opts.prefix })
    this.queue.on('error', (err) => this.opts.onError?.(err))
  }

  private jobOptions(jobId: string) {
    return {
      // BullMQ ids may not contain ':'; a hash of the id keeps one job per message.
      jobId,
      attempts: this.opts.attempts ?? 50,
      backoff: { type: 'exponential', delay: this.opts.backoffMs ?? 1000 },
      removeOnComplete: { age: 86_400 },
      removeOnFail: false,
    }
  }

  async record(advice: AuthorizationAdvice): Promise<void> {
    await this.queue.add('advice', advice, this.jobOptions(jobIdOf(advice.adviceId)))
  }

  async recordReversal(reversal: ReversalRequest): Promise<void> {
    if (!this.opts.deliverReversal) throw new Error('this advice queue cannot deliver reversals')
    await this.queue.add('reversal', reversal, this.jobOptions(reversalJobIdOf(reversal.reversalId)))
  }

  /** Start delivering (one worker per processor replica; BullMQ hands each job to one worker). */
  start(): void {
    if (this.worker) return
    this.worker = new Worker<QueuedMessage, AdviceResult | ReversalResult>(
      this.opts.name ?? 'advices',
      async (job: Job<QueuedMessage>) => {
        if (job.name === 'reversal') {
          const reversal = job.data as ReversalRequest
          if (!this.opts.deliverReversal) throw new Error('no reversal delivery configured')
          const result = await this.opts.deliverReversal(reversal)
          this.opts.onReversalDelivered?.(reversal, result)
          return result
        }
        const advice = job.data as AuthorizationAdvice
        const result = await this.opts.deliver(advice)
        this.opts.onDelivered?.(advice, result)
        return result
      },
      { connection: this.opts.connection, prefix: this.opts.prefix, concurrency: 4 },
    )
    // A failed delivery is retried by BullMQ (its `failed` event); `error` is the connection's.
    this.worker.on('error', (err) => this.opts.onError?.(err))
  }

  /** Advices and reversals waiting or being retried. */
  async pending(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized')
    return Object.values(counts).reduce((a, b) => a + b, 0)
  }

  /**
   * Stop delivering and release the connections. Waits for connections still being set up first: closing
   * one mid-initialisation makes BullMQ report "Connection is closed" after its listeners are gone.
   */
  async close(): Promise<void> {
    await Promise.allSettled([this.queue.waitUntilReady(), ...(this.worker ? [this.worker.waitUntilReady()] : [])])
    await this.worker?.close()
    await this.queue.close()
  }
}
