import t from 'tap'
import { mkdirSync, writeFileSync, cpSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT, checkBoundaries, loadZoneMap } from '../src/index.js'

t.test('the repository respects the zone boundaries', async (t) => {
  t.same(checkBoundaries(REPO_ROOT, loadZoneMap()), [])
})

function pkg(
  root: string, folder: string, name: string, deps: Record<string, string> = {}, src = 'export {}\n',
  devDependencies: Record<string, string> = {},
) {
  mkdirSync(join(root, folder, 'src'), { recursive: true })
  writeFileSync(join(root, folder, 'package.json'), JSON.stringify({ name, dependencies: deps, devDependencies }))
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
  // A test driving a dev tool directly is fine; the same import from shipped code is not.
  pkg(root, 'tools/dev', '@x/dev')
  mkdirSync(join(root, 'proxy/internal/test'))
  const toolImport = ['import { y } from ', "'", '../../../tools/dev/src/index.js', "'\n"].join('')
  writeFileSync(join(root, 'proxy/internal/test/a.test.ts'), toolImport)
  writeFileSync(join(root, 'proxy/internal/src/b.ts'), toolImport)
  pkg(root, 'packages/contracts', '@x/contracts', { '@x/processor': 'workspace:*' })
  const v = checkBoundaries(root, loadZoneMap(join(root, 'k8s', 'zones.yaml')))
  const got = v.map((x) => `${x.pkg}->${x.target}`).sort()
  t.same(got, [
    'packages/contracts->@x/processor',
    'proxy/internal->cde/processor/src/index.js',
    'proxy/internal->tools/dev/src/index.js',
    'services/cards->@x/processor',
    'services/cards->@x/visa',
  ])
})

t.test('dev dependencies are test tooling, but shipped code may not import them', async (t) => {
  const root = t.testdir({})
  mkdirSync(join(root, 'k8s'))
  cpSync(join(REPO_ROOT, 'k8s', 'zones.yaml'), join(root, 'k8s', 'zones.yaml'))
  pkg(root, 'vault-plugins/payment-crypto', '@x/payment-crypto')
  pkg(root, 'tools/dev-spiffe', '@x/dev-spiffe')
  pkg(root, 'cde/keyvault', '@x/keyvault')
  // A test in the card vault may compute the terminal's CVV with payment crypto: allowed.
  pkg(root, 'cde/card-vault', '@x/card-vault', {}, 'export {}\n', { '@x/payment-crypto': 'workspace:*', '@x/dev-spiffe': 'workspace:*' })
  mkdirSync(join(root, 'cde/card-vault/test'))
  writeFileSync(join(root, 'cde/card-vault/test/a.test.ts'), ['import { cvv } from ', "'@x/payment-crypto'", '\n'].join(''))
  // A package's testing entry may use dev-spiffe: allowed.
  pkg(root, 'packages/service-kit', '@x/service-kit', {}, 'export {}\n', { '@x/dev-spiffe': 'workspace:*' })
  writeFileSync(join(root, 'packages/service-kit/src/testing.ts'), ['import { s } from ', "'@x/dev-spiffe'", '\n'].join(''))
  t.same(checkBoundaries(root, loadZoneMap(join(root, 'k8s', 'zones.yaml'))), [])

  // But shipped card-vault code importing it, or a dev dependency on a service, is caught.
  writeFileSync(join(root, 'cde/card-vault/src/cvv.ts'), ['import { cvv } from ', "'@x/payment-crypto'", '\n'].join(''))
  pkg(root, 'services/ledger', '@x/ledger')
  pkg(root, 'services/cards', '@x/cards', {}, 'export {}\n', { '@x/keyvault': 'workspace:*', '@x/ledger': 'workspace:*' })
  const got = checkBoundaries(root, loadZoneMap(join(root, 'k8s', 'zones.yaml'))).map((v) => `${v.pkg}->${v.target}`).sort()
  t.same(got, ['cde/card-vault->@x/payment-crypto', 'services/cards->@x/keyvault'])
})
