import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { REPO_ROOT, serviceNodeArgs } from '@cardplane/zones'

/** A service process started by the supervisor. */
export interface ServiceProcess {
  name: string
  child: ChildProcess
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Whether the process has ended. */
  hasExited(): boolean
  /** Last lines of output, for failure reports. */
  tail(): string[]
}

/**
 * Environment of a child: the supervisor's own minus what must not leak into services (test runner
 * hooks such as NODE_OPTIONS from tap's coverage, any inherited service variables), plus `env`.
 */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('TAP') || k.startsWith('_TAPJS') || k.startsWith('NODE_V8_COVERAGE')) continue
    if (['SPIFFE_ENDPOINT_SOCKET', 'DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'CARDPLANE_SERVICE_URLS'].includes(k)) continue
    out[k] = v
  }
  return { ...out, ...env }
}

/** Start `tsx <entry>` as its own process; every output line goes to `onLine`. */
export function startServiceProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  onLine: (stream: 'stdout' | 'stderr', line: string) => void,
): ServiceProcess {
  const child = spawn(process.execPath, serviceNodeArgs(entry), {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const tail: string[] = []
  let done = false
  const remember = (stream: 'stdout' | 'stderr', line: string): void => {
    tail.push(line)
    if (tail.length > 20) tail.shift()
    onLine(stream, line)
  }
  createInterface({ input: child.stdout! }).on('line', (l) => remember('stdout', l))
  createInterface({ input: child.stderr! }).on('line', (l) => remember('stderr', l))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true
      resolve({ code, signal })
    })
    child.once('error', () => {
      done = true
      resolve({ code: null, signal: null })
    })
  })
  return { name, child, exited, hasExited: () => done, tail: () => [...tail] }
}

/** SIGTERM, then SIGKILL after `graceMs` if the process is still there. */
export async function stopServiceProcess(p: ServiceProcess, graceMs = 10_000): Promise<void> {
  if (p.hasExited()) return
  p.child.kill('SIGTERM')
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs)
  await p.exited
  clearTimeout(timer)
}

/**
 * Poll `<url><path>` (`/healthz`: live, `/readyz`: ready) until it answers 200, the process exits, or
 * `timeoutMs` passes. Resolves with ok, or with the reason it is not.
 */
export async function waitHttp(
  url: string,
  path: '/healthz' | '/readyz',
  proc: ServiceProcess,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      const { code, signal } = await proc.exited
      return { ok: false, reason: `exited (${signal ?? `code ${code}`})` }
    }
    try {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) })
      if (res.status === 200) return { ok: true }
      last = `${path} answered ${res.status}: ${await res.text()}`
    } catch (err) {
      last = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return { ok: false, reason: `no 200 from ${path} after ${Math.round(timeoutMs / 1000)} s (${last})` }
}
