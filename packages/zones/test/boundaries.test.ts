import t from 'tap'
import { mkdirSync, writeFileSync, cpSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT, checkBoundaries, loadZoneMap } from '../src/index.js'

t.test('the repository respects the zone boundaries', async (t) => {
  t.same(checkBoundaries(REPO_ROOT, loadZoneMap()), [])
})

function pkg(root: string, folder: string, name: string, deps: Record<string, string> = {}, src = 'export {}\n') {
  mkdirSync(join(root, folder, 'src'), { recursive: true })
  writeFileSync(join(root, folder, 'package.json'), JSON.stringify({ name, dependencies: deps }))
  writeFileSync(join(root, folder, 'src', 'index.ts'), src)
}

t.test('a main-cluster service depending on CDE code is caught', async (t) => {
  const root = t.testdir({})
  mkdirSync(join(root, 'k8s'))
  cpSync(join(REPO_ROOT, 'k8s', 'zones.yaml'), join(root, 'k8s', 'zones.yaml'))
  pkg(root, 'packages/iso8583', '@x/iso8583')
  pkg(root, 'connectors/visa', '@x/visa', { '@x/iso8583': 'workspace:*' })
  pkg(root, 'cde/processor', '@x/processor', { '@x/visa': 'workspace:*' })
  pkg(root, 'services/cards', '@x/cards', { '@x/visa': 'workspace:*', '@x/processor': 'workspace:*' })
  // Assembled at run time so this test file does not itself contain a cross-zone import.
  const crossZoneImport = ['import { x } from ', "'", '../../../cde/processor/src/index.js', "'\n"].join('')
  pkg(root, 'proxy/internal', '@x/pi', {}, crossZoneImport)
  pkg(root, 'packages/contracts', '@x/contracts', { '@x/processor': 'workspace:*' })
  const v = checkBoundaries(root, loadZoneMap(join(root, 'k8s', 'zones.yaml')))
  const got = v.map((x) => `${x.pkg}->${x.target}`).sort()
  t.same(got, [
    'packages/contracts->@x/processor',
    'proxy/internal->cde/processor/src/index.js',
    'services/cards->@x/processor',
    'services/cards->@x/visa',
  ])
})
