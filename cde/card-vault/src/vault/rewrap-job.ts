/**
 * Background rotation: every interval, follow the key service's newest KEK version (KeyManager.rotate)
 * and move records sealed under older data keys, one batch at a time so reads and writes continue; then
 * move stored PIN blocks under older versions of the PIN storage key (CardVault.rewrapPinBatch); then
 * re-index cards under a replaced PAN index key (CardVault.reindexBatch) and retire that key once none is
 * left under it (KeyManager.retireIndexKeys).
 */
import type { FastifyBaseLogger } from 'fastify'
import type { CardVault } from './card-vault.js'
import type { KeyManager } from './key-manager.js'

/** What one pass did. */
export interface RewrapPass {
  /** Records moved to the active data key (KEK rotation). */
  records: number
  /** Stored PIN blocks moved to the PIN storage key's latest version. */
  pinBlocks: number
  /** Cards whose `pin_key_version` was only filled in (rows from before the column; nothing to move). */
  pinVersionsRecorded: number
  /** PIN blocks the key service refused to move (left under their version). */
  pinBlocksRefused: number
  /** The PIN storage key version the pass moved blocks to. */
  pinKeyVersion: number
  /** Cards moved to the active PAN index key (after an index key replacement). */
  indexRows: number
  /** Cards the re-indexing left (changed meanwhile, or their new HMAC already taken). */
  indexRowsLeft: number
  /** Replaced index keys marked retired by this pass (no card left under them). */
  indexKeysRetired: number
}

/** Handle of a running job. */
export interface RewrapJob {
  /**
   * One full pass: rotate if needed, rewrap records until nothing is left, then move stored PIN blocks
   * below the PIN storage key's latest version (once over the work list, in card ID order), then re-index
   * cards under a replaced PAN index key and retire it when none is left.
   */
  runOnce(): Promise<RewrapPass>
  stop(): Promise<void>
}

/** Start the periodic job (intervalMs 0: no timer, runOnce only). */
export function startRewrapJob(vault: CardVault, keys: KeyManager, log: FastifyBaseLogger, intervalMs: number): RewrapJob {
  let running: Promise<RewrapPass> | undefined
  let stopped = false
  /** One walk over a work list in card ID order, batch after batch from a cursor, until a batch sees nothing. */
  const walk = async <B extends { seen: number; last: string }>(next: (after: string) => Promise<B>, add: (b: B) => void): Promise<void> => {
    for (let after = ''; !stopped; ) {
      const b = await next(after)
      add(b)
      if (b.seen === 0) return
      after = b.last
    }
  }
  const runOnce = (): Promise<RewrapPass> => {
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
      // PIN blocks: after the records, so a PIN-side failure never holds up a KEK rotation.
      const pinKeyVersion = await vault.latestPinKeyVersion()
      const pins = { moved: 0, recorded: 0, refused: 0 }
      await walk((after) => vault.rewrapPinBatch(pinKeyVersion, after, 200), (b) => {
        pins.moved += b.moved
        pins.recorded += b.recorded
        pins.refused += b.refused
      })
      if (pins.moved + pins.recorded > 0) log.info({ moved: pins.moved, recorded: pins.recorded, pinKeyVersion }, 'stored PIN blocks rewrapped')
      if (pins.refused > 0) log.warn({ refused: pins.refused, pinKeyVersion }, 'stored PIN blocks the key service refused to rewrap (left under their version)')
      // PAN index: cards under a replaced index key move to the active one; then the old key is retired.
      const index = await keys.reloadIndexKeys()
      const idx = { moved: 0, left: 0, retired: 0 }
      await walk((after) => vault.reindexBatch(index.active, after, 200), (b) => {
        idx.moved += b.moved
        idx.left += b.left
      })
      if (!stopped && index.retiring) idx.retired = (await keys.retireIndexKeys()).length
      if (idx.moved > 0) log.info({ moved: idx.moved, indexKeyId: index.active.id }, 'cards re-indexed under the active PAN index key')
      if (idx.left > 0) log.warn({ left: idx.left, indexKeyId: index.active.id }, 'cards the PAN re-indexing left (changed meanwhile or the new HMAC already taken)')
      if (idx.retired > 0) log.info({ retired: idx.retired, indexKeyId: index.active.id }, 'replaced PAN index key retired')
      return {
        records: total,
        pinBlocks: pins.moved,
        pinVersionsRecorded: pins.recorded,
        pinBlocksRefused: pins.refused,
        pinKeyVersion,
        indexRows: idx.moved,
        indexRowsLeft: idx.left,
        indexKeysRetired: idx.retired,
      }
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
