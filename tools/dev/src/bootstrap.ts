import { readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { DevSpiffe } from '@cardplane/tool-dev-spiffe'
import type { ZoneMap } from '@cardplane/zones'

/**
 * What a bootstrap step receives. `urls`, `stateDir` and `log` are the contract; `spiffe` and `zoneMap`
 * let a step act as a service (e.g. fetch a JWT-SVID from that service's socket).
 */
export interface BootstrapContext {
  urls: Record<string, string>
  stateDir: string
  log: (msg: string) => void
  spiffe: DevSpiffe
  zoneMap: ZoneMap
}

/** A bootstrap step: the default export of a module in `src/bootstrap/`. */
export type BootstrapStep = (ctx: BootstrapContext) => Promise<void>

/** Outcome of one step. */
export interface BootstrapResult {
  step: string
  ok: boolean
  error?: string
  ms: number
}

const DEFAULT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'bootstrap')
/** A step that takes longer than this is reported as failed, so a stuck step cannot hang `pnpm start`. */
const STEP_TIMEOUT_MS = 120_000

/**
 * Run every `*.ts` module in the bootstrap folder, sorted by file name, one after the other. A failing
 * or stuck step is reported and the next steps still run; nothing is retried.
 */
export async function runBootstrap(ctx: BootstrapContext, dir = DEFAULT_DIR): Promise<BootstrapResult[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort()
  const results: BootstrapResult[] = []
  for (const file of files) {
    const started = Date.now()
    try {
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default?: unknown }
      if (typeof mod.default !== 'function') throw new Error('module has no default export function')
      ctx.log(`bootstrap ${file}`)
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        (mod.default as BootstrapStep)(ctx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS)
        }),
      ]).finally(() => clearTimeout(timer))
      results.push({ step: file, ok: true, ms: Date.now() - started })
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      ctx.log(`bootstrap ${file} failed: ${message}`)
      results.push({ step: file, ok: false, error: message, ms: Date.now() - started })
    }
  }
  return results
}
