import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDevSpiffe, type DevSpiffe } from '@cardplane/tool-dev-spiffe'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { loadZoneMap, serviceByName, type ZoneMap } from '@cardplane/zones'
import type { Logger } from '@cardplane/service-kit'
import type { FastifyInstance } from 'fastify'
import vault from 'node-vault'
import pg from 'pg'
import { buildApp } from '../src/app.js'
import { createCore } from '../src/build-core.js'
import type { Core } from '../src/core.js'

const ADMIN_URL = process.env.KEYVAULT_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A uniquely named database for one test file, dropped by `drop()`. */
export async function createTestDatabase(prefix = 'kv_test'): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`)
  return {
    url,
    name,
    drop: async () => {
      const a = new pg.Client({ connectionString: ADMIN_URL })
      await a.connect()
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await a.end()
    },
  }
}

/** A running key service on real PostgreSQL with a real dev SPIFFE Workload API. */
export interface Harness {
  url: string
  core: Core
  app: FastifyInstance
  pool: pg.Pool
  zoneMap: ZoneMap
  spiffe: DevSpiffe
  /** Workload API clients per service name (card-vault, processor). */
  workload: (service: string) => WorkloadApiClient
  /** A node-vault client (noCustomHTTPVerbs) with an optional token. */
  client: (token?: string) => vault.client
  auditFile: string
  dbUrl: string
  close: () => Promise<void>
}

/** `logger`: the app's logger (a test collecting log lines); default silent. */
export async function startHarness(opts: { tokenTtlSec?: number; logger?: Logger } = {}): Promise<Harness> {
  const db = await createTestDatabase()
  const zoneMap = loadZoneMap()
  const dir = await mkdtemp(join(tmpdir(), 'kv-'))
  const spiffe = await startDevSpiffe({
    dir,
    trustDomain: zoneMap.trustDomain,
    services: ['keyvault', 'card-vault', 'processor'].map((n) => ({ name: n, spiffeId: serviceByName(zoneMap, n).spiffeId })),
  })
  const clients = new Map<string, WorkloadApiClient>()
  const workload = (service: string): WorkloadApiClient => {
    let c = clients.get(service)
    if (!c) {
      c = new WorkloadApiClient({ socketPath: spiffe.endpoint(service) })
      clients.set(service, c)
    }
    return c
  }
  const bundles = workload('keyvault')
  const pool = new pg.Pool({ connectionString: db.url, max: 8, options: '-c synchronous_commit=on' })
  const auditFile = join(dir, 'audit.jsonl')
  const core = await createCore({
    pool,
    auditFile,
    settings: {
      self: serviceByName(zoneMap, 'keyvault'),
      zoneMap,
      bundles,
      spiffeRoles: { 'card-vault': ['card-vault'], processor: ['card-vault'] },
      tokenTtlSec: opts.tokenTtlSec ?? 900,
    },
  })
  const app = await buildApp({ core, config: { LOG_LEVEL: process.env.KEYVAULT_TEST_LOG === '1' ? 'error' : 'silent' }, bundles, zoneMap, ...(opts.logger ? { logger: opts.logger } : {}) })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url,
    core,
    app,
    pool,
    zoneMap,
    spiffe,
    workload,
    auditFile,
    dbUrl: db.url,
    client: (token?: string) => vault({ endpoint: url, noCustomHTTPVerbs: true, ...(token ? { token } : {}) }),
    close: async () => {
      await app.close()
      core.seal.sealNow()
      await core.audit.close()
      await pool.end()
      for (const c of clients.values()) c.close()
      await spiffe.stop()
      await rm(dir, { recursive: true, force: true })
      await db.drop()
    },
  }
}

/** Status code and body of a node-vault failure. */
export async function vaultError(p: Promise<unknown>): Promise<{ status: number; code: string; errors: string[] }> {
  try {
    await p
  } catch (err) {
    const r = (err as { response?: { statusCode: number; body: { code?: string; errors?: string[] } } }).response
    if (!r) throw err
    return { status: r.statusCode, code: r.body?.code ?? '', errors: r.body?.errors ?? [] }
  }
  throw new Error('expected the request to fail')
}

/** Raw HTTP for what node-vault hides (status codes of health, sealed answers). */
export async function raw(url: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/v1/${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { 'x-vault-token': token } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined }
}

/** init 5/3 and unseal with three shares; returns root token and shares. */
export async function initAndUnseal(h: Harness): Promise<{ rootToken: string; keys: string[] }> {
  const v = h.client()
  const init = (await v.init({ secret_shares: 5, secret_threshold: 3 })) as { keys: string[]; root_token: string }
  for (const k of init.keys.slice(0, 3)) await v.unseal({ key: k })
  return { rootToken: init.root_token, keys: init.keys }
}
