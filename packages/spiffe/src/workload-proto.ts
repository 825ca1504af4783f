import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'

/** Metadata every Workload API call carries; servers refuse calls without it (SSRF guard in the standard). */
export const WORKLOAD_API_HEADER = 'workload.spiffe.io'
export const WORKLOAD_API_HEADER_VALUE = 'true'

/** Path of the proto file shipped with this package. */
export const WORKLOAD_PROTO_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../proto/workload.proto')

/** Plain-object shapes produced by proto-loader (keepCase: field names as in the proto, bytes as Buffer). */
export interface JwtSvidRequestMsg {
  audience: string[]
  spiffe_id: string
}
export interface JwtSvidMsg {
  spiffe_id: string
  svid: string
  hint: string
}
export interface JwtSvidResponseMsg {
  svids: JwtSvidMsg[]
}
export interface JwtBundlesResponseMsg {
  bundles: Record<string, Buffer>
}
export interface ValidateJwtSvidRequestMsg {
  audience: string
  svid: string
}
/** google.protobuf.Struct as proto-loader represents it. */
export interface StructMsg {
  fields: Record<string, ValueMsg>
}
export interface ValueMsg {
  nullValue?: 'NULL_VALUE' | 0
  numberValue?: number
  stringValue?: string
  boolValue?: boolean
  structValue?: StructMsg
  listValue?: { values: ValueMsg[] }
  kind?: string
}
export interface ValidateJwtSvidResponseMsg {
  spiffe_id: string
  claims: StructMsg | null
}

/** The loaded SpiffeWorkloadAPI service: a client constructor and the service definition for servers. */
export interface WorkloadApiDefinition {
  Client: ServiceClientConstructor
  service: ServiceDefinition
}

let cached: WorkloadApiDefinition | undefined

/** Load (once) the Workload API service from the proto file. */
export function loadWorkloadApi(): WorkloadApiDefinition {
  if (cached) return cached
  const def = loadSync(WORKLOAD_PROTO_PATH, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
    objects: true,
    oneofs: true,
  })
  const pkg = loadPackageDefinition(def)
  const Client = pkg.SpiffeWorkloadAPI as ServiceClientConstructor
  cached = { Client, service: Client.service }
  return cached
}

/** JSON value to google.protobuf.Value (for ValidateJWTSVID claims). */
export function toValue(v: unknown): ValueMsg {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' }
  if (typeof v === 'number') return { numberValue: v }
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } }
  if (typeof v === 'object') return { structValue: toStruct(v as Record<string, unknown>) }
  return { nullValue: 'NULL_VALUE' }
}

/** JSON object to google.protobuf.Struct. */
export function toStruct(obj: Record<string, unknown>): StructMsg {
  const fields: Record<string, ValueMsg> = {}
  for (const [k, v] of Object.entries(obj)) fields[k] = toValue(v)
  return { fields }
}

/** google.protobuf.Value back to JSON (proto-loader with `oneofs` names the set member in `kind`). */
export function fromValue(v: ValueMsg): unknown {
  switch (v.kind) {
    case 'structValue':
      return v.structValue ? fromStruct(v.structValue) : null
    case 'listValue':
      return (v.listValue?.values ?? []).map(fromValue)
    case 'stringValue':
      return v.stringValue
    case 'numberValue':
      return v.numberValue
    case 'boolValue':
      return v.boolValue
    default:
      return null
  }
}

/** google.protobuf.Struct back to JSON. */
export function fromStruct(s: StructMsg): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s.fields ?? {})) out[k] = fromValue(v)
  return out
}
