import t from 'tap'
import { spawnSync } from 'node:child_process'
import { parseAllDocuments } from 'yaml'
import { loadZoneMap, renderManifests, SERVICE_NODE_FLAGS, serviceNodeArgs } from '../src/index.js'

t.test('this Node.js accepts every service flag (a misspelt V8 flag stops the process)', async (t) => {
  t.ok(SERVICE_NODE_FLAGS.includes('--no-memory-reducer'))
  const r = spawnSync(process.execPath, [...SERVICE_NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, 'ok')
  t.equal(r.stderr, '', 'no warning either')
  const bad = spawnSync(process.execPath, ['--no-memory-reducr', '-e', '0'], { encoding: 'utf8' })
  t.not(bad.status, 0, 'the check above can fail: a wrong flag is refused')
})

t.test('the command line: service flags, then the extra flags, then tsx and the entry point', async (t) => {
  t.same(serviceNodeArgs('cde/processor/src/main.ts'), [...SERVICE_NODE_FLAGS, '--import', 'tsx', 'cde/processor/src/main.ts'])
  t.same(serviceNodeArgs('x.ts', ['--cpu-prof']), [...SERVICE_NODE_FLAGS, '--cpu-prof', '--import', 'tsx', 'x.ts'])
})

t.test('every deployment in the manifests runs its service with the flags', async (t) => {
  const map = loadZoneMap()
  let deployments = 0
  for (const f of renderManifests(map).filter((x) => x.path.endsWith('workloads.yaml'))) {
    for (const d of parseAllDocuments(f.content)) {
      const o = d.toJS() as { kind: string; spec: { template: { spec: { containers: { args: string[] }[] } } } }
      if (o.kind !== 'Deployment') continue
      deployments++
      const args = o.spec.template.spec.containers[0]!.args
      t.same(args.slice(0, 1 + SERVICE_NODE_FLAGS.length), ['node', ...SERVICE_NODE_FLAGS])
    }
  }
  t.ok(deployments >= 10, `${deployments} deployments`)
})
