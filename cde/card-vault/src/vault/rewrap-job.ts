/**
 * Background rotation: every interval, follow the key service's newest KEK version (KeyManager.rotate)
 * and move records sealed under older data keys, one batch at a time so reads and writes continue.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { CardVault } from './card-vault.js'
import type { KeyManager } from './key-manager.js'

/** Handle of a running job. */
export interface RewrapJob {
  /** One full pass: rotate if needed, then rewrap until nothing is left. Returns records moved. */
  runOnce(): Promise<number>
  stop(): Promise<void>
}

/** Start the periodic job (intervalMs 0: no timer, runOnce only). */
export function startRewrapJob(vault: CardVault, keys: KeyManager, log: FastifyBaseLogger, intervalMs: number): RewrapJob {
  let running: Promise<number> | undefined
  let stopped = false
  const runOnce = (): Promise<number> => {
    running ??= (async () => {
      const r = await keys.rotate()
      if (r.rotated) log.info({ recordsKeyId: r.recordsKeyId, kekVersion: r.recordsKekVersion }, 'card data key rotated')
      let total = 0
      for (;;) {
        if (stopped) break
        const n = await vault.rewrapBatch(200)
        total += n
        if (n === 0) break
      }
      if (total > 0) log.info({ moved: total, kekVersion: r.recordsKekVersion }, 'card records rewrapped')
      return total
    })().finally(() => {
      running = undefined
    })
    return running
  }
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          runOnce().catch((err: unknown) => log.warn({ err }, 'rewrap pass failed'))
        }, intervalMs)
      : undefined
  timer?.unref()
  return {
    runOnce,
    async stop() {
      stopped = true
      if (timer) clearInterval(timer)
      await running?.catch(() => undefined)
    },
  }
}
