import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// Each case starts real node processes with tsx; on a busy two-core machine that takes a while.
t.setTimeout(180_000)

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/slow-service.ts')

t.test('SIGTERM: in-flight requests finish, new ones are refused, onClose runs, exit 0', async (t) => {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const lines: string[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line)
      const rec = JSON.parse(line) as { msg?: string; url?: string }
      if (rec.msg === 'service listening' && rec.url) resolve(rec.url)
    })
    child.once('exit', () => reject(new Error('fixture exited before listening')))
  })
  const inFlight = fetch(`${url}/slow`).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown }))
  await new Promise((r) => setTimeout(r, 400))
  child.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 300))
  const late = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => 'refused',
  )
  t.not(late, 200, `a new request after SIGTERM is not served normally (${late})`)
  t.same(await inFlight, { status: 200, body: { finished: true } }, 'the in-flight request finished')
  const code = await exited
  t.equal(code, 0, `exit code 0 (got ${code}; output: ${lines.join(' | ')})`)
  const msgs = lines.map((l) => (JSON.parse(l) as { msg?: string }).msg)
  t.ok(msgs.indexOf('shutting down') < msgs.indexOf('onClose ran'), 'onClose after shutdown started')
  t.ok(msgs.includes('onClose ran'))
})

t.test('a service whose parent is killed with SIGKILL exits by itself', async (t) => {
  // parent: a tiny node process that starts the fixture, prints its pid, then waits to be killed.
  const parentScript = `
const { spawn } = require('node:child_process')
const env = { ...process.env }; delete env.NODE_OPTIONS
const c = spawn(process.execPath, ['--import', 'tsx', ${JSON.stringify(fixture)}], { env, stdio: ['ignore', 'pipe', 'inherit'] })
c.stdout.on('data', (d) => { if (String(d).includes('service listening')) console.log('child ' + c.pid) })
setInterval(() => {}, 1000)
`
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  const parent = spawn(process.execPath, ['-e', parentScript], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const childPid = await new Promise<number>((resolve) => {
    createInterface({ input: parent.stdout }).on('line', (line) => {
      const m = /^child (\d+)$/.exec(line)
      if (m) resolve(Number(m[1]))
    })
  })
  t.teardown(() => {
    try {
      process.kill(childPid, 'SIGKILL')
    } catch {
      // already gone, as it should be
    }
  })
  parent.kill('SIGKILL')
  const deadline = Date.now() + 15_000
  let alive = true
  while (alive && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200))
    try {
      process.kill(childPid, 0)
    } catch {
      alive = false
    }
  }
  t.notOk(alive, 'the orphaned service exited')
})
