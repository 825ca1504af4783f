import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { postgresClusterCpuUs, processCpuUs, reapedChildrenCpuUs } from '../src/platform.js'

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres'

t.test('a child that has exited and been reaped counts in its parent\'s account', async (t) => {
  const before = reapedChildrenCpuUs(process.pid)
  // About 300 ms of CPU in a child, then it exits and this process reaps it.
  const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 300; while (Date.now() < end);'], { stdio: 'ignore' })
  await once(child, 'exit')
  const after = reapedChildrenCpuUs(process.pid)
  t.ok(after - before >= 150_000, `reaped child CPU grew by ${after - before} µs (expected ≥ 150,000)`)
  t.equal(processCpuUs(child.pid!), 0, 'the exited child itself reads 0')
  t.equal(reapedChildrenCpuUs(2 ** 22 + 1), 0, 'a process that does not exist reads 0')
})

t.test('PostgreSQL cluster CPU keeps what a backend used after that backend has exited', async (t) => {
  const before = postgresClusterCpuUs()
  t.ok(before > 0, 'the running cluster has used some CPU')
  const c = new pg.Client({ connectionString: ADMIN })
  await c.connect()
  const backend = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  // Work the backend's own CPU (not the client's): a few hundred ms of counting.
  await c.query('SELECT count(*) FROM generate_series(1, 3000000)')
  const used = processCpuUs(backend)
  t.ok(used >= 50_000, `the backend used ${used} µs`)
  await c.end()
  // The postmaster reaps the backend on SIGCHLD; wait until the backend is gone from /proc.
  for (let i = 0; i < 100 && processCpuUs(backend) > 0; i++) await sleep(20)
  t.equal(processCpuUs(backend), 0, 'the backend has exited')
  const after = postgresClusterCpuUs()
  // Counting only backends that are still running would lose all of `used` here.
  t.ok(after - before >= used * 0.9, `cluster CPU grew by ${after - before} µs, the exited backend used ${used} µs`)
})
