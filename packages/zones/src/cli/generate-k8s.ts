// Regenerates k8s/generated/ from k8s/zones.yaml. `--check` exits 1 when the committed files differ.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { loadZoneMap, REPO_ROOT } from '../zone-map.js'
import { renderManifests } from '../k8s.js'

const outDir = join(REPO_ROOT, 'k8s', 'generated')
const files = renderManifests(loadZoneMap())
if (process.argv.includes('--check')) {
  const stale = files.filter((f) => {
    const p = join(outDir, f.path)
    return !existsSync(p) || readFileSync(p, 'utf8') !== f.content
  })
  for (const f of stale) console.error(`stale: k8s/generated/${f.path}`)
  process.exit(stale.length ? 1 : 0)
}
rmSync(outDir, { recursive: true, force: true })
for (const f of files) {
  const p = join(outDir, f.path)
  mkdirSync(dirname(p), { recursive: true })
  writeFileSync(p, f.content)
}
console.log(`wrote ${files.length} files to k8s/generated/`)
