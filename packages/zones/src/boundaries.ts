import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs'
import { join, relative, resolve, dirname } from 'node:path'
import type { ZoneMap } from './zone-map.js'

/** A dependency or import that crosses a zone boundary it must not. */
export interface BoundaryViolation {
  /** Workspace folder of the offending package, e.g. `services/cards`. */
  pkg: string
  /** What it reaches: a package name or a file path. */
  target: string
  rule: string
}

/** Zone of a workspace folder: a group number, 'neutral' (packages/), or 'tools' (dev only). */
type Zone = number | 'neutral' | 'tools'

const LIBRARY_ZONES: Record<string, number> = { connectors: 2, 'vault-plugins': 4 }

function workspaceFolders(root: string): string[] {
  const out: string[] = []
  for (const top of ['packages', 'services', 'cde', 'vault-plugins', 'proxy', 'connectors', 'tools']) {
    const dir = join(root, top)
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      if (existsSync(join(dir, name, 'package.json'))) out.push(`${top}/${name}`)
    }
  }
  return out
}

function zoneOf(map: ZoneMap, folder: string): Zone {
  const top = folder.split('/')[0]!
  if (top === 'packages') return 'neutral'
  if (top === 'tools') return 'tools'
  if (top in LIBRARY_ZONES) return LIBRARY_ZONES[top]!
  const svc = map.services.find((s) => s.dir === folder)
  if (!svc) throw new Error(`${folder} is not in the zone map; add it to k8s/zones.yaml`)
  return svc.group
}

/**
 * Why `from` may not depend on `to`, or undefined when it may. Services use zone-neutral packages and
 * libraries of their own group only, never another service's code; nothing shipped depends on tools/.
 */
function rule(map: ZoneMap, from: string, to: string): string | undefined {
  const zf = zoneOf(map, from)
  const zt = zoneOf(map, to)
  if (zf === 'tools') return undefined
  if (zt === 'tools') return 'only tools/ may depend on tools/ (dev tooling is not shipped)'
  if (zt === 'neutral') return undefined
  if (zf === 'neutral') return 'zone-neutral packages/ must not depend on zone code'
  const toIsLibrary = to.split('/')[0]! in LIBRARY_ZONES
  if (!toIsLibrary) return `service code is never a dependency (${to} is a service)`
  if (zf !== zt) return `group ${zf} must not use group ${zt} library ${to}`
  return undefined
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (/\.(ts|js|mjs|cjs)$/.test(name)) out.push(p)
  }
  return out
}

const PACKAGE_IMPORT_RE = /(?:from\s+|import\s*\(\s*|import\s+)['"](@[^'"/]+\/[^'"]+)['"]/g

function packageName(specifier: string): string {
  return specifier.split('/').slice(0, 2).join('/')
}

function isServiceFolder(map: ZoneMap, folder: string): boolean {
  return map.services.some((s) => s.dir === folder)
}

/** Files under src/ ship; tests, benchmarks and a package's `testing` entry do not. */
function isShippedSource(pkgDir: string, file: string): boolean {
  const rel = relative(pkgDir, file).split('\\').join('/')
  return rel.startsWith('src/') && !/^src\/testing(\.ts|\/)/.test(rel)
}

const IMPORT_RE = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g

/** Check every workspace package's dependencies and relative imports against the zone rules. */
export function checkBoundaries(root: string, map: ZoneMap): BoundaryViolation[] {
  const folders = workspaceFolders(root)
  const byName = new Map<string, string>()
  for (const f of folders) {
    const pj = JSON.parse(readFileSync(join(root, f, 'package.json'), 'utf8')) as { name: string }
    byName.set(pj.name, f)
  }
  const violations: BoundaryViolation[] = []
  for (const f of folders) {
    const pj = JSON.parse(readFileSync(join(root, f, 'package.json'), 'utf8')) as {
      name: string
      dependencies?: Record<string, string>
      devDependencies?: Record<string, string>
    }
    const ownName = pj.name
    // Runtime dependencies follow the zone rules. Dev dependencies are test tooling (dev-spiffe, a terminal's
    // view of payment crypto to compute expected values); a test may wire a neighbour service of the same
    // group in-process, never one of another group.
    const runtime = new Set(Object.keys(pj.dependencies ?? {}))
    for (const dep of runtime) {
      const target = byName.get(dep)
      if (!target) continue
      const why = rule(map, f, target)
      if (why) violations.push({ pkg: f, target: dep, rule: why })
    }
    for (const dep of Object.keys(pj.devDependencies ?? {})) {
      const target = byName.get(dep)
      if (target && isServiceFolder(map, target) && zoneOf(map, target) !== zoneOf(map, f)) {
        violations.push({ pkg: f, target: dep, rule: `tests may only wire same-group services (${target} is group ${String(zoneOf(map, target))})` })
      }
    }
    // A relative import that leaves the package is a dependency the package.json does not show
    // (tools/ are dev-only and may reach anything).
    const pkgDir = join(root, f)
    if (zoneOf(map, f) === 'tools') continue
    for (const file of sourceFiles(pkgDir)) {
      const text = readFileSync(file, 'utf8')
      // Shipped code may only import workspace packages it declares as runtime dependencies, so a dev
      // dependency cannot smuggle zone code into production. A package's `testing` entry is test support.
      if (isShippedSource(pkgDir, file)) {
        for (const m of text.matchAll(PACKAGE_IMPORT_RE)) {
          const name = packageName(m[1]!)
          if (byName.has(name) && !runtime.has(name) && name !== ownName) {
            violations.push({ pkg: f, target: name, rule: `imported from shipped code but not a runtime dependency (${relative(root, file)})` })
          }
        }
      }
      for (const m of text.matchAll(IMPORT_RE)) {
        const abs = resolve(dirname(file), m[1]!)
        if (!relative(pkgDir, abs).startsWith('..')) continue
        // Tests and benchmarks may drive dev tooling (tools/) directly; shipped code never.
        if (!isShippedSource(pkgDir, file) && relative(root, abs).startsWith('tools/')) continue
        violations.push({ pkg: f, target: relative(root, abs), rule: `relative import leaves the package (${relative(root, file)})` })
      }
    }
  }
  return violations
}
