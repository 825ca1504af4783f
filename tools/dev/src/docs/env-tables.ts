import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describeConfig, type TObject } from '@cardplane/service-kit'
import { REPO_ROOT, loadZoneMap } from '@cardplane/zones'

const BEGIN = /<!-- env:begin[^>]*-->/
const END = '<!-- env:end -->'

/** One README whose environment table is (or should be) generated from the service's config schema. */
export interface EnvTableResult {
  service: string
  readme: string
  /** `updated`: rewritten; `current`: already matches; `skipped`: no config.ts, no schema or no markers. */
  status: 'updated' | 'current' | 'skipped'
  reason?: string
}

function isTObject(v: unknown): v is TObject {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'object' && 'properties' in v
}

/**
 * Render each service's env table (describeConfig of the schema exported by `src/config.ts` as
 * `<name>ConfigSchema`) between the README's `env:begin` / `env:end` markers. With `check`, only report.
 */
export async function syncEnvTables(opts: { check?: boolean } = {}): Promise<EnvTableResult[]> {
  const results: EnvTableResult[] = []
  for (const svc of loadZoneMap().services) {
    const dir = join(REPO_ROOT, svc.dir)
    const readme = join(dir, 'README.md')
    const configFile = join(dir, 'src/config.ts')
    if (!existsSync(readme) || !existsSync(configFile)) {
      results.push({ service: svc.name, readme, status: 'skipped', reason: 'no README.md or src/config.ts' })
      continue
    }
    const text = await readFile(readme, 'utf8')
    const begin = BEGIN.exec(text)
    const endAt = text.indexOf(END)
    if (!begin || endAt < begin.index) {
      results.push({ service: svc.name, readme, status: 'skipped', reason: 'no env markers' })
      continue
    }
    const mod = (await import(pathToFileURL(configFile).href)) as Record<string, unknown>
    const schema = Object.entries(mod).find(([k, v]) => k.endsWith('ConfigSchema') && isTObject(v))?.[1] as TObject | undefined
    if (!schema) {
      results.push({ service: svc.name, readme, status: 'skipped', reason: 'config.ts exports no *ConfigSchema' })
      continue
    }
    const head = text.slice(0, begin.index + begin[0].length)
    const next = `${head}\n${describeConfig(schema)}\n${text.slice(endAt)}`
    if (next === text) {
      results.push({ service: svc.name, readme, status: 'current' })
    } else {
      if (!opts.check) await writeFile(readme, next)
      results.push({ service: svc.name, readme, status: 'updated' })
    }
  }
  return results
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const check = process.argv.includes('--check')
  const results = await syncEnvTables({ check })
  for (const r of results) process.stdout.write(`${r.service.padEnd(16)} ${r.status}${r.reason ? ` (${r.reason})` : ''}\n`)
  if (check && results.some((r) => r.status === 'updated')) {
    process.stderr.write('env tables are out of date: run pnpm --filter @cardplane/tool-dev docs:env\n')
    process.exit(1)
  }
}
