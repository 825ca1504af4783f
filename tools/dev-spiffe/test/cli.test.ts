import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { loadZoneMap } from '@cardplane/zones'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { socketDir } from './helpers.js'

const mainTs = join(dirname(fileURLToPath(import.meta.url)), '../src/main.ts')

t.test('the CLI serves every zone-map service and cleans up on SIGTERM', async (t) => {
  const zoneMap = loadZoneMap()
  const { dir, cleanup } = await socketDir()
  t.teardown(cleanup)
  const child = spawn(process.execPath, ['--import=tsx', mainTs, '--dir', dir, '--json', '--ttl', '60'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)))
  })
  const out = JSON.parse(first) as { trustDomain: string; sockets: Record<string, string> }
  t.equal(out.trustDomain, zoneMap.trustDomain)
  t.same(Object.keys(out.sockets).sort(), zoneMap.services.map((s) => s.name).sort())
  for (const svc of zoneMap.services) {
    const client = new WorkloadApiClient({ socketPath: out.sockets[svc.name] })
    const svid = await client.fetchJwtSvid('spiffe://cardplane.dev/g0/ledger')
    client.close()
    t.equal(svid.spiffeId, svc.spiffeId, `${svc.name} socket`)
    t.ok(Math.abs(svid.expiresAt.getTime() - Date.now() - 60_000) < 5000, 'ttl flag honoured')
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  t.equal(await exited, 0)
  for (const url of Object.values(out.sockets)) t.notOk(existsSync(url.slice('unix://'.length)), 'socket removed')
})
