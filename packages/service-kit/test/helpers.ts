import { Writable } from 'node:stream'
import { StaticBundleSource } from '@cardplane/spiffe'
import { loadZoneMap, type ZoneMap } from '@cardplane/zones'
import { createLogger, type Logger } from '../src/index.js'

/** A logger writing into memory, so tests can read every line the service kit emitted. */
export function memoryLogger(name = 'test'): { logger: Logger; lines: () => string[]; text: () => string } {
  const chunks: string[] = []
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString())
      cb()
    },
  })
  const logger = createLogger({ name, level: 'trace', destination })
  const text = (): string => chunks.join('')
  return { logger, text, lines: () => text().split('\n').filter((l) => l !== '') }
}

/** The committed zone map. */
export function zoneMap(): ZoneMap {
  return loadZoneMap()
}

/** A bundle source with no keys: every token is refused (for tests that do not need callers). */
export function emptyBundles(): StaticBundleSource {
  return new StaticBundleSource({})
}
