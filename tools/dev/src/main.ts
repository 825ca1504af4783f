import { resolve } from 'node:path'
import { REPO_ROOT } from '@cardplane/zones'
import { colourFor, formatLine } from './log-format.js'
import { startPlatform, type Platform } from './platform.js'
import { PreflightError } from './preflight.js'
import { renderTable } from './table.js'

// `pnpm start`: the whole platform on loopback until Ctrl-C. Everything configurable comes from env:
// CARDPLANE_PG_URL, CARDPLANE_REDIS_URL, CARDPLANE_DEV_STATE_DIR, CARDPLANE_SERVICES, LOG_LEVEL,
// CARDPLANE_TRUST_DOMAIN, CARDPLANE_LOG_FORMAT=json.
const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
const json = process.env.CARDPLANE_LOG_FORMAT === 'json'
const stateDir = resolve(process.env.CARDPLANE_DEV_STATE_DIR ?? `${REPO_ROOT}/.dev`)
const only = process.env.CARDPLANE_SERVICES?.split(',').map((s) => s.trim()).filter(Boolean)
const say = (msg: string): void => void process.stdout.write(`${colour ? '\u001b[1m' : ''}[dev]${colour ? '\u001b[0m' : ''} ${msg}\n`)

const order = new Map<string, number>()
let platform: Platform | undefined
let stopping = false
const starting = new AbortController()

async function shutdown(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  say(`${signal}: stopping services`)
  if (!platform) {
    // Still starting: startPlatform stops what it started and rejects; the catch below exits.
    starting.abort()
    return
  }
  await platform.stop()
  say('stopped')
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))

try {
  say(`state dir ${stateDir}`)
  const started = Date.now()
  platform = await startPlatform({
    stateDir,
    databasePrefix: 'cardplane',
    ports: 'dev',
    ...(only ? { services: only } : {}),
    logLevel: process.env.LOG_LEVEL ?? 'info',
    log: say,
    signal: starting.signal,
    onLog: (service, _stream, line) => {
      if (!order.has(service)) order.set(service, order.size)
      const out = json ? `[${service}] ${line}` : formatLine(service, colourFor(service, order.get(service)!), line, 14, colour)
      process.stdout.write(`${out}\n`)
    },
  })
  process.stdout.write(`\n${renderTable(platform.services)}\n\n`)
  for (const b of platform.bootstrap) say(`bootstrap ${b.step}: ${b.ok ? 'ok' : `FAILED (${b.error ?? ''})`}`)
  const bad = platform.services.filter((s) => s.state !== 'ready')
  say(
    `${platform.services.length - bad.length}/${platform.services.length} services ready in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (bad.length ? ` (not ready: ${bad.map((s) => s.name).join(', ')})` : '') +
      '. Ctrl-C stops everything.',
  )
} catch (err) {
  if (stopping) {
    say('stopped')
    process.exit(0)
  }
  const message = err instanceof PreflightError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)
  process.stderr.write(`[dev] cannot start: ${message}\n`)
  await platform?.stop()
  process.exit(1)
}
