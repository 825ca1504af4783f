import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

/** Security group number: 4 key zone, 3 secure zone, 2 internal zone, 1 DMZ, 0 main cluster. */
export type GroupId = 0 | 1 | 2 | 3 | 4

/** One security group (zone). */
export interface ZoneGroup {
  id: GroupId
  name: string
  /** Kubernetes namespace that holds this group's workloads. */
  namespace: string
}

/** One service and where it lives. */
export interface ZoneService {
  /** Stable service name; also the last segment of its SPIFFE ID. */
  name: string
  group: GroupId
  /** Workspace folder, relative to the repository root. */
  dir: string
  /** HTTP port on loopback in development. */
  devPort: number
  /** Derived: `spiffe://<trustDomain>/g<group>/<name>`. */
  spiffeId: string
  /** TCP ports reachable from / towards the internet. Only group 1 (DMZ) may have any. */
  internet: { ingress: number[]; egress: number[] }
}

/** A permitted call: `from` may call `to`. */
export interface ZoneEdge {
  from: string
  to: string
  why: string
}

/** The loaded, validated zone map. */
export interface ZoneMap {
  trustDomain: string
  groups: ZoneGroup[]
  services: ZoneService[]
  edges: ZoneEdge[]
}

/** Raised when the zone map file is malformed or breaks the adjacency rule. */
export class ZoneMapError extends Error {
  readonly code = 'zone_map_invalid'
  constructor(message: string) {
    super(message)
    this.name = 'ZoneMapError'
  }
}

const here = dirname(fileURLToPath(import.meta.url))
/** The committed zone map: `k8s/zones.yaml` at the repository root. */
export const DEFAULT_ZONE_MAP_PATH = resolve(here, '../../../k8s/zones.yaml')
/** Repository root, for tools that resolve service folders from the map. */
export const REPO_ROOT = resolve(here, '../../..')

const NAME_RE = /^[a-z][a-z0-9-]{0,62}$/
const TRUST_DOMAIN_RE = /^[a-z0-9._-]{1,255}$/

/** Two groups may talk when they are the same or adjacent. */
export function groupsAdjacent(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1
}

/** SPIFFE ID of a service in a trust domain. */
export function spiffeIdFor(trustDomain: string, group: number, name: string): string {
  return `spiffe://${trustDomain}/g${group}/${name}`
}

function isGroupId(v: unknown): v is GroupId {
  return v === 0 || v === 1 || v === 2 || v === 3 || v === 4
}

function parsePorts(service: string, what: string, v: unknown): number[] {
  if (v === undefined) return []
  if (!Array.isArray(v) || !v.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) {
    throw new ZoneMapError(`service ${service}: internet.${what} must be a list of TCP ports`)
  }
  return [...(v as number[])].sort((a, b) => a - b)
}

function parseInternet(service: string, group: GroupId, v: unknown): ZoneService['internet'] {
  if (v === undefined) return { ingress: [], egress: [] }
  if (typeof v !== 'object' || v === null) throw new ZoneMapError(`service ${service}: internet must be a mapping`)
  const o = v as Record<string, unknown>
  const internet = { ingress: parsePorts(service, 'ingress', o.ingress), egress: parsePorts(service, 'egress', o.egress) }
  // Only the DMZ faces the internet; a CDE or main-cluster service with an internet port is a design error.
  if (group !== 1 && (internet.ingress.length || internet.egress.length)) {
    throw new ZoneMapError(`service ${service}: only group 1 (DMZ) may reach or be reached from the internet`)
  }
  return internet
}

/** Validate a parsed zone map document; throws ZoneMapError naming the offending entry. */
export function parseZoneMap(doc: unknown, opts: { trustDomain?: string } = {}): ZoneMap {
  if (typeof doc !== 'object' || doc === null) throw new ZoneMapError('zone map must be a mapping')
  const d = doc as Record<string, unknown>
  const trustDomain = opts.trustDomain ?? d.trustDomain
  if (typeof trustDomain !== 'string' || !TRUST_DOMAIN_RE.test(trustDomain)) {
    throw new ZoneMapError('trustDomain must be a lowercase SPIFFE trust domain name')
  }
  if (!Array.isArray(d.groups)) throw new ZoneMapError('groups must be a list')
  const groups: ZoneGroup[] = d.groups.map((g: Record<string, unknown>, i: number) => {
    if (!isGroupId(g.id)) throw new ZoneMapError(`groups[${i}].id must be 0..4`)
    if (typeof g.name !== 'string' || typeof g.namespace !== 'string') {
      throw new ZoneMapError(`groups[${i}] needs name and namespace`)
    }
    return { id: g.id, name: g.name, namespace: g.namespace }
  })
  const groupIds = new Set(groups.map((g) => g.id))
  if (groupIds.size !== groups.length) throw new ZoneMapError('group ids must be unique')

  if (!Array.isArray(d.services)) throw new ZoneMapError('services must be a list')
  const seenPorts = new Set<number>()
  const services: ZoneService[] = d.services.map((s: Record<string, unknown>, i: number) => {
    if (typeof s.name !== 'string' || !NAME_RE.test(s.name)) throw new ZoneMapError(`services[${i}].name is invalid`)
    if (!isGroupId(s.group) || !groupIds.has(s.group)) throw new ZoneMapError(`service ${s.name}: unknown group`)
    if (typeof s.dir !== 'string') throw new ZoneMapError(`service ${s.name}: dir is required`)
    if (typeof s.devPort !== 'number' || !Number.isInteger(s.devPort) || s.devPort < 1024 || s.devPort > 65535) {
      throw new ZoneMapError(`service ${s.name}: devPort must be an integer 1024..65535`)
    }
    if (seenPorts.has(s.devPort)) throw new ZoneMapError(`service ${s.name}: devPort ${s.devPort} used twice`)
    seenPorts.add(s.devPort)
    const internet = parseInternet(s.name, s.group, s.internet)
    return { name: s.name, group: s.group, dir: s.dir, devPort: s.devPort, spiffeId: spiffeIdFor(trustDomain, s.group, s.name), internet }
  })
  const byName = new Map(services.map((s) => [s.name, s]))
  if (byName.size !== services.length) throw new ZoneMapError('service names must be unique')

  if (!Array.isArray(d.edges)) throw new ZoneMapError('edges must be a list')
  const seenEdges = new Set<string>()
  const edges: ZoneEdge[] = d.edges.map((e: Record<string, unknown>, i: number) => {
    const from = byName.get(String(e.from))
    const to = byName.get(String(e.to))
    if (!from || !to) throw new ZoneMapError(`edges[${i}]: unknown service ${String(from ? e.to : e.from)}`)
    if (from.name === to.name) throw new ZoneMapError(`edges[${i}]: a service does not need an edge to itself`)
    if (!groupsAdjacent(from.group, to.group)) {
      throw new ZoneMapError(
        `edges[${i}]: ${from.name} (g${from.group}) -> ${to.name} (g${to.group}) crosses more than one group boundary`,
      )
    }
    const key = `${from.name}>${to.name}`
    if (seenEdges.has(key)) throw new ZoneMapError(`edges[${i}]: duplicate edge ${key}`)
    seenEdges.add(key)
    return { from: from.name, to: to.name, why: typeof e.why === 'string' ? e.why : '' }
  })
  return { trustDomain, groups, services, edges }
}

/**
 * Load the zone map from YAML. `trustDomain` overrides the file's trust domain (config decides it
 * per environment; the file gives the default).
 */
export function loadZoneMap(path: string = DEFAULT_ZONE_MAP_PATH, opts: { trustDomain?: string } = {}): ZoneMap {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ZoneMapError(`cannot read zone map at ${path}: ${(err as Error).message}`)
  }
  return parseZoneMap(parse(text), opts)
}

/** Look up a service by name; throws ZoneMapError for an unknown name. */
export function serviceByName(map: ZoneMap, name: string): ZoneService {
  const s = map.services.find((x) => x.name === name)
  if (!s) throw new ZoneMapError(`unknown service ${name}`)
  return s
}

/** Look up a service by SPIFFE ID; undefined when the ID is not in the map. */
export function serviceBySpiffeId(map: ZoneMap, spiffeId: string): ZoneService | undefined {
  return map.services.find((x) => x.spiffeId === spiffeId)
}

/** Services allowed to call `callee` by the zone map. */
export function allowedCallers(map: ZoneMap, callee: string): ZoneService[] {
  return map.edges.filter((e) => e.to === callee).map((e) => serviceByName(map, e.from))
}

/** Whether the zone map has an edge caller -> callee. */
export function edgeAllowed(map: ZoneMap, caller: string, callee: string): boolean {
  return map.edges.some((e) => e.from === caller && e.to === callee)
}
