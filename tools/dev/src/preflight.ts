import { Redis } from 'ioredis'
import pg from 'pg'

/** Raised when a local dependency of the dev platform is missing; the message says what to do. */
export class PreflightError extends Error {
  readonly code: 'postgres_unreachable' | 'redis_unreachable' | 'database_create_failed' | 'port_in_use'
  constructor(code: PreflightError['code'], message: string) {
    super(message)
    this.name = 'PreflightError'
    this.code = code
  }
}

/** A URL with its password masked, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparseable URL)'
  }
}

/** URL of another database on the same server. */
export function databaseUrl(adminUrl: string, database: string): string {
  const u = new URL(adminUrl)
  u.pathname = `/${database}`
  return u.toString()
}

/** `cardplane` + `card-vault` → `cardplane_card_vault`. */
export function databaseName(prefix: string, service: string): string {
  return `${prefix}_${service.replace(/-/g, '_')}`
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] }
  return e.code ?? e.errors?.[0]?.code ?? e.message ?? 'unknown error'
}

/**
 * Check PostgreSQL answers at `pgUrl`; the error names CARDPLANE_PG_URL (set or not) so a developer with
 * PostgreSQL elsewhere knows which variable to set.
 */
export async function checkPostgres(pgUrl: string, fromEnv: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('select 1')
  } catch (err) {
    throw new PreflightError(
      'postgres_unreachable',
      `PostgreSQL is not reachable at ${safeUrl(pgUrl)} (${reason(err)}). ` +
        (fromEnv
          ? 'CARDPLANE_PG_URL points there: fix it or start that server.'
          : 'Start PostgreSQL locally, or set CARDPLANE_PG_URL to a server where the user may create databases.'),
    )
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Check Redis answers PING at `redisUrl`; the error names CARDPLANE_REDIS_URL. */
export async function checkRedis(redisUrl: string, fromEnv: boolean): Promise<void> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    await redis.ping()
  } catch (err) {
    throw new PreflightError(
      'redis_unreachable',
      `Redis is not reachable at ${safeUrl(redisUrl)} (${reason(err)}). ` +
        (fromEnv
          ? 'CARDPLANE_REDIS_URL points there: fix it or start that server.'
          : 'Start Redis locally, or set CARDPLANE_REDIS_URL to point elsewhere.'),
    )
  } finally {
    redis.disconnect()
  }
}

const DB_NAME_RE = /^[a-z_][a-z0-9_]{0,62}$/

/** Create each database that does not exist yet; returns the ones created. */
export async function ensureDatabases(pgUrl: string, names: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
  await client.connect()
  const created: string[] = []
  try {
    for (const name of names) {
      if (!DB_NAME_RE.test(name)) throw new PreflightError('database_create_failed', `invalid database name ${name}`)
      const found = await client.query('select 1 from pg_database where datname = $1', [name])
      if (found.rowCount) continue
      try {
        // Identifiers cannot be bound parameters; the name is checked against DB_NAME_RE above.
        await client.query(`create database "${name}"`)
        created.push(name)
      } catch (err) {
        // Another process may have created it between the check and the create.
        if ((err as { code?: string }).code !== '42P04') {
          throw new PreflightError('database_create_failed', `cannot create database ${name}: ${reason(err)}`)
        }
      }
    }
  } finally {
    await client.end()
  }
  return created
}

/** Drop databases (test platforms clean up after themselves). */
export async function dropDatabases(pgUrl: string, names: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    for (const name of names) {
      if (!DB_NAME_RE.test(name)) continue
      await client.query(`drop database if exists "${name}" with (force)`)
    }
  } finally {
    await client.end()
  }
}
