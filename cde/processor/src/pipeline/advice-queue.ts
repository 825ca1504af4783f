import { createHash } from 'node:crypto'
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq'
import type { AdviceResult, AuthorizationAdvice } from '@cardplane/contracts'
import type { AdviceSink } from './types.js'

/** The BullMQ job id of an advice. */
export function jobIdOf(adviceId: string): string {
  return createHash('sha256').update(adviceId).digest('hex').slice(0, 40)
}

/** Options of the store-and-forward queue. */
export interface AdviceQueueOptions {
  connection: ConnectionOptions
  /** BullMQ key prefix (tests use a unique one). */
  prefix: string
  /** Queue name. */
  name?: string
  /** Delivery: post one advice to the main cluster; must be idempotent per adviceId (it is, by contract). */
  deliver: (advice: AuthorizationAdvice) => Promise<AdviceResult>
  /** First retry delay (ms), doubled each attempt (default 1000). */
  backoffMs?: number
  /** Delivery attempts before the job is kept as failed for an operator (default 50, ~days with backoff). */
  attempts?: number
  /** Called after a successful delivery (metrics, tests). */
  onDelivered?: (advice: AuthorizationAdvice, result: AdviceResult) => void
}

/**
 * Durable store-and-forward of processor stand-in decisions (jPOS SAF): BullMQ keeps each advice in Redis
 * until `authorizations POST /v1/advices` accepts it. The job id is the advice id, so recording the same
 * advice twice stores it once; the main cluster deduplicates by advice id too, so a delivery retried after
 * a lost answer is applied once. Job data is the unified advice: card ID and check results, never card data.
 */
export class AdviceQueue implements AdviceSink {
  readonly queue: Queue<AuthorizationAdvice>
  private worker: Worker<AuthorizationAdvice, AdviceResult> | undefined
  private readonly opts: AdviceQueueOptions

  constructor(opts: AdviceQueueOptions) {
    this.opts = opts
    this.queue = new Queue<AuthorizationAdvice>(opts.name ?? 'advices', { connection: opts.connection, prefix: opts.prefix })
  }

  async record(advice: AuthorizationAdvice): Promise<void> {
    await this.queue.add('advice', advice, {
      // BullMQ ids may not contain ':'; a hash of the advice id keeps one job per advice.
      jobId: jobIdOf(advice.adviceId),
      attempts: this.opts.attempts ?? 50,
      backoff: { type: 'exponential', delay: this.opts.backoffMs ?? 1000 },
      removeOnComplete: { age: 86_400 },
      removeOnFail: false,
    })
  }

  /** Start delivering (one worker per processor replica; BullMQ hands each job to one worker). */
  start(): void {
    if (this.worker) return
    this.worker = new Worker<AuthorizationAdvice, AdviceResult>(
      this.opts.name ?? 'advices',
      async (job: Job<AuthorizationAdvice>) => {
        const result = await this.opts.deliver(job.data)
        this.opts.onDelivered?.(job.data, result)
        return result
      },
      { connection: this.opts.connection, prefix: this.opts.prefix, concurrency: 4 },
    )
    // A failed delivery is retried by BullMQ; the error itself is not interesting here.
    this.worker.on('error', () => undefined)
  }

  /** Advices waiting or being retried. */
  async pending(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized')
    return Object.values(counts).reduce((a, b) => a + b, 0)
  }

  async close(): Promise<void> {
    await this.worker?.close()
    await this.queue.close()
  }
}
