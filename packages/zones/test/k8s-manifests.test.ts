import t from 'tap'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { REPO_ROOT, loadZoneMap, renderManifests } from '../src/index.js'

const outDir = join(REPO_ROOT, 'k8s', 'generated')

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? listFiles(p) : [relative(outDir, p)]
  })
}

t.test('committed k8s manifests are exactly what the generator produces', async (t) => {
  const files = renderManifests(loadZoneMap())
  t.same(listFiles(outDir).sort(), files.map((f) => f.path).sort(), 'same file set (run `pnpm zones:generate`)')
  for (const f of files) {
    const p = join(outDir, f.path)
    t.ok(existsSync(p), f.path)
    t.equal(readFileSync(p, 'utf8'), f.content, `${f.path} is current (run \`pnpm zones:generate\`)`)
  }
})

t.test('network policies allow exactly the zone map edges', async (t) => {
  const map = loadZoneMap()
  const files = renderManifests(map)
  const allowed = new Set<string>()
  for (const f of files.filter((x) => x.path.endsWith('network-policies.yaml'))) {
    for (const d of parseAllDocuments(f.content)) {
      const o = d.toJS() as any
      if (o.metadata.name === 'default-deny-all') {
        t.same(o.spec.podSelector, {}, 'default deny selects every pod')
        continue
      }
      const callee = o.spec.podSelector.matchLabels['cardplane.io/service']
      for (const rule of o.spec.ingress) {
        for (const from of rule.from) {
          if (from.podSelector) allowed.add(`${from.podSelector.matchLabels['cardplane.io/service']}>${callee}`)
        }
      }
    }
  }
  t.same([...allowed].sort(), map.edges.map((e) => `${e.from}>${e.to}`).sort())
})

t.test('every service has a SPIRE registration with its SPIFFE ID', async (t) => {
  const map = loadZoneMap()
  const spire = renderManifests(map).find((f) => f.path === 'spire-registrations.yaml')!
  const ids = parseAllDocuments(spire.content).map((d) => (d.toJS() as any).spec.spiffeIDTemplate)
  t.same(ids.sort(), map.services.map((s) => s.spiffeId).sort())
})
