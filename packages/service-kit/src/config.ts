import { Kind, OptionalKind, Type, type Static, type TObject, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { DEFAULT_ZONE_MAP_PATH, loadZoneMap, type ZoneMap } from '@cardplane/zones'
import { ConfigError } from './errors.js'

/**
 * Variables every service reads. A service composes its own schema from this one:
 * `Type.Composite([baseConfigSchema, Type.Object({ ... })])`. Every property must carry a
 * `description`: loadConfig refuses undocumented variables and describeConfig renders the table
 * that goes into each service's README.
 */
export const baseConfigSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the HTTP server listens on.' }),
  PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description: "HTTP port. Unset: the service's devPort from the zone map. 0: an ephemeral port (tests).",
    }),
  ),
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info', description: 'Minimum log level (pino).' },
  ),
  SPIFFE_ENDPOINT_SOCKET: Type.String({
    pattern: '^unix://',
    description: 'SPIFFE Workload API socket (`unix:///path`): the service gets its JWT-SVIDs and trust bundle here.',
  }),
  CARDPLANE_ZONES_FILE: Type.String({
    default: DEFAULT_ZONE_MAP_PATH,
    description: 'Zone map (groups, services, allowed edges). Default: `k8s/zones.yaml` in the repository.',
  }),
  CARDPLANE_TRUST_DOMAIN: Type.Optional(
    Type.String({
      pattern: '^[a-z0-9._-]+$',
      description: "SPIFFE trust domain; overrides the zone map's `trustDomain`.",
    }),
  ),
  CARDPLANE_SERVICE_URLS: Type.Optional(
    Type.Record(Type.String(), Type.String({ pattern: '^https?://' }), {
      description:
        'JSON object `{ "<service>": "http://host:port" }` of callee base URLs. Services not listed use `http://127.0.0.1:<devPort>` from the zone map.',
    }),
  ),
  DATABASE_URL: Type.Optional(
    Type.String({ description: "PostgreSQL URL of this service's own database (dev: `cardplane_<service>`)." }),
  ),
  REDIS_URL: Type.Optional(Type.String({ description: 'Redis URL, for services that use queues or counters.' })),
})

/** Parsed base configuration. */
export type BaseConfig = Static<typeof baseConfigSchema>

/** Environment shape accepted by loadConfig. */
export type Env = Record<string, string | undefined>

function kindOf(schema: TSchema): string {
  return String((schema as { [Kind]?: string })[Kind] ?? '')
}

function coerce(schema: TSchema, raw: string): unknown {
  switch (kindOf(schema)) {
    case 'Integer':
    case 'Number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
    case 'Boolean': {
      const v = raw.trim().toLowerCase()
      if (['true', '1', 'yes', 'on'].includes(v)) return true
      if (['false', '0', 'no', 'off'].includes(v)) return false
      return raw
    }
    case 'Object':
    case 'Record':
    case 'Array':
      try {
        return JSON.parse(raw) as unknown
      } catch {
        return raw
      }
    default:
      return raw
  }
}

function problemFor(schema: TSchema, message: string): string {
  const kind = kindOf(schema)
  if (kind === 'Object' || kind === 'Record' || kind === 'Array') return `must be JSON (${message.toLowerCase()})`
  if (kind === 'Union') return `must be one of ${typeLabel(schema).replace(/\\/g, '').replace(/`/g, '')}`
  return message.toLowerCase()
}

/**
 * Parse configuration once from the environment: only the schema's variables are read; empty strings
 * count as unset; numbers, booleans and JSON values are coerced; defaults are applied; everything is
 * validated. On failure throws one ConfigError naming every bad variable (never echoing values, which
 * may be secrets).
 */
export function loadConfig<T extends TObject>(schema: T, env: Env = process.env): Static<T> {
  const problems: { name: string; problem: string }[] = []
  const raw: Record<string, unknown> = {}
  for (const [name, prop] of Object.entries(schema.properties) as [string, TSchema][]) {
    if (typeof prop.description !== 'string' || prop.description.trim() === '') {
      problems.push({ name, problem: 'variable has no description in the schema (document every variable)' })
    }
    const value = env[name]
    if (value !== undefined && value !== '') raw[name] = coerce(prop, value)
  }
  const withDefaults = Value.Default(schema, raw) as Record<string, unknown>
  const seen = new Set<string>()
  for (const err of Value.Errors(schema, withDefaults)) {
    const name = err.path.split('/')[1] ?? '(root)'
    if (seen.has(name)) continue
    seen.add(name)
    const prop = schema.properties[name] as TSchema | undefined
    const missing = withDefaults[name] === undefined
    problems.push({ name, problem: missing ? 'is required but not set' : problemFor(prop ?? schema, err.message) })
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return withDefaults as Static<T>
}

function typeLabel(schema: TSchema): string {
  const kind = kindOf(schema)
  switch (kind) {
    case 'Union': {
      const anyOf = (schema as { anyOf?: TSchema[] }).anyOf ?? []
      if (anyOf.every((s) => kindOf(s) === 'Literal')) {
        return anyOf.map((s) => `\`${String((s as { const?: unknown }).const)}\``).join(' \\| ')
      }
      return anyOf.map(typeLabel).join(' \\| ')
    }
    case 'Integer':
      return 'integer'
    case 'Number':
      return 'number'
    case 'Boolean':
      return 'boolean'
    case 'Object':
    case 'Record':
    case 'Array':
      return 'JSON'
    case 'Literal':
      return `\`${String((schema as { const?: unknown }).const)}\``
    default:
      return 'string'
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/**
 * Render a schema as a markdown table (variable, type, required, default, description) for a README.
 * Defaults that are absolute paths inside the repository are shown relative to keep the table portable.
 */
export function describeConfig(schema: TObject): string {
  const rows = ['| Variable | Type | Required | Default | Description |', '|---|---|---|---|---|']
  for (const [name, prop] of Object.entries(schema.properties) as [string, TSchema][]) {
    const optional = (prop as { [OptionalKind]?: string })[OptionalKind] === 'Optional'
    const def = (prop as { default?: unknown }).default
    const required = !optional && def === undefined
    let defText = def === undefined ? '' : typeof def === 'string' ? def : JSON.stringify(def)
    if (typeof def === 'string' && def === DEFAULT_ZONE_MAP_PATH) defText = 'k8s/zones.yaml'
    rows.push(
      `| \`${name}\` | ${typeLabel(prop)} | ${required ? 'yes' : 'no'} | ${defText === '' ? '' : `\`${cell(defText)}\``} | ${cell(prop.description ?? '')} |`,
    )
  }
  return rows.join('\n')
}

/**
 * Base URL of a callee: CARDPLANE_SERVICE_URLS if it names the service, else its devPort on loopback.
 */
export function serviceUrl(config: Pick<BaseConfig, 'CARDPLANE_SERVICE_URLS'>, zoneMap: ZoneMap, name: string): string {
  const configured = config.CARDPLANE_SERVICE_URLS?.[name]
  if (configured) return configured
  const svc = zoneMap.services.find((s) => s.name === name)
  if (!svc) throw new ConfigError([{ name: 'CARDPLANE_SERVICE_URLS', problem: `no URL for unknown service ${name}` }])
  return `http://127.0.0.1:${svc.devPort}`
}

/** Load the zone map named by the config, with the configured trust domain if any. */
export function zoneMapFromConfig(config: Pick<BaseConfig, 'CARDPLANE_ZONES_FILE' | 'CARDPLANE_TRUST_DOMAIN'>): ZoneMap {
  return loadZoneMap(config.CARDPLANE_ZONES_FILE, config.CARDPLANE_TRUST_DOMAIN ? { trustDomain: config.CARDPLANE_TRUST_DOMAIN } : {})
}
