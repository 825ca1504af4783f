import { randomBytes } from 'node:crypto'
import { isPaymentCryptoError } from '@cardplane/payment-crypto'
import type { JwtBundleSource } from '@cardplane/spiffe'
import type { ZoneMap, ZoneService } from '@cardplane/zones'
import type { AuditLog } from './domain/audit-log.js'
import { hmacer, redact, type Hmacer } from './domain/audit-redact.js'
import { Barrier } from './domain/barrier.js'
import { CeremonyService } from './domain/ceremony.js'
import { AuditFailureError, InvalidRequestError, KeyvaultError, PermissionDeniedError, SealedError, UnsupportedOperationError, NotFoundError } from './domain/errors.js'
import type { Body } from './domain/input.js'
import { KeyStore } from './domain/key-store.js'
import { PolicyStore } from './domain/policy-store.js'
import { SealManager } from './domain/seal.js'
import type { PhysicalStorage } from './domain/storage.js'
import { TokenStore, type TokenEntry } from './domain/tokens.js'
import { capabilitiesFor, Router, type LogicalRequest, type LogicalResponse, type PathRoute } from './http/router.js'

const AUDIT_SALT_PATH = 'core/audit-salt'

/** Settings the core needs from config. */
export interface CoreSettings {
  /** The key service's zone-map entry (its SPIFFE ID is the login audience). */
  self: ZoneService
  zoneMap: ZoneMap
  bundles: JwtBundleSource
  /** service name → policies granted at `auth/spiffe/login`. */
  spiffeRoles: Record<string, string[]>
  /** Lifetime of login tokens, seconds. */
  tokenTtlSec: number
}

/** What the HTTP layer sends back. */
export interface CoreReply {
  status: number
  body: unknown
}

/** A request's outcome before it is turned into a reply (and audited). */
type Outcome = { ok: true; res: LogicalResponse } | { ok: false; err: KeyvaultError }

/**
 * The key service core (Vault's `vault.Core`): seal state, barrier, tokens, policies, keys and the
 * audit log, and `handle()`, the one path every API request takes:
 * seal check → token → ACL → audit request (durable) → handler → audit response (durable) → reply.
 * A pure call (only computes: CVV, PIN, ARQC, MAC, transit) is audited as one `exchange` row holding
 * request and response, durable before the reply.
 * A request whose audit record cannot be written is answered 500 before its handler runs.
 */
export class Core {
  readonly barrier: Barrier
  readonly seal: SealManager
  readonly tokens: TokenStore
  readonly policies: PolicyStore
  readonly keys: KeyStore
  readonly ceremonies: CeremonyService
  private readonly router = new Router()
  private auditSalt: Buffer | undefined
  /** Told about every 5xx (with its cause) so the service can log it; messages carry no values. */
  onServerError: (err: KeyvaultError, req: { id: string; path: string; operation: string }) => void = () => undefined

  constructor(
    physical: PhysicalStorage,
    readonly audit: AuditLog,
    readonly settings: CoreSettings,
  ) {
    this.barrier = new Barrier(physical)
    this.seal = new SealManager(physical, this.barrier)
    this.tokens = new TokenStore(this.barrier)
    this.policies = new PolicyStore(this.barrier)
    this.keys = new KeyStore(this.barrier)
    this.ceremonies = new CeremonyService(this.barrier, this.keys)
    this.seal.addHooks({
      afterUnseal: async () => {
        this.auditSalt = await this.barrier.get(AUDIT_SALT_PATH)
        await this.policies.load()
        await this.keys.load()
      },
      beforeSeal: () => {
        this.auditSalt?.fill(0)
        this.auditSalt = undefined
        this.tokens.clear()
        this.policies.clear()
        this.keys.clear()
      },
    })
  }

  addRoutes(routes: PathRoute[]): void {
    for (const r of routes) if (r.batchable && !r.pure) throw new Error(`route ${r.pattern}: only pure routes may take batch_input`)
    this.router.add(routes)
  }

  /** First writes behind a fresh barrier, run by `sys/init`. */
  static async initialWrites(barrier: Barrier): Promise<{ rootToken: string }> {
    const tokens = new TokenStore(barrier)
    const { token, entry } = tokens.prepare({ policies: ['root'], displayName: 'root', ttlSec: 0 })
    await barrier.apply([
      { op: 'put', path: 'sys/token/id/' + entry.id, value: entry },
      { op: 'put', path: AUDIT_SALT_PATH, value: randomBytes(32) },
    ])
    return { rootToken: token }
  }

  private hmacCache: { salt: Buffer | undefined; fn: Hmacer } | undefined

  /** The audit HMAC for the current salt (rebuilt only when the salt changes: unseal/seal). */
  private hmac(): Hmacer {
    if (!this.hmacCache || this.hmacCache.salt !== this.auditSalt) this.hmacCache = { salt: this.auditSalt, fn: hmacer(this.auditSalt) }
    return this.hmacCache.fn
  }

  /**
   * Audit fields of a token, HMAC'd once per token and salt rather than twice per request: the
   * accessor block and the HMAC of the presented token (a token entry is found by the SHA-256 of that
   * token, so one entry always comes from the same token string).
   */
  private tokenAudit = new WeakMap<TokenEntry, { hmac: Hmacer; clientToken: string; auth: Record<string, unknown> | null }>()

  private tokenAuditFor(token: TokenEntry, raw: string, hmac: Hmacer): { clientToken: string; auth: Record<string, unknown> | null } {
    const hit = this.tokenAudit.get(token)
    if (hit && hit.hmac === hmac) return hit
    const fresh = { hmac, clientToken: hmac(raw), auth: authEntry(token, hmac) }
    this.tokenAudit.set(token, fresh)
    return fresh
  }

  /** HMAC a value with the audit salt, so an auditor can find it in the log (`sys/audit-hash`). */
  auditHash(value: string): string {
    if (!this.auditSalt) throw new SealedError()
    return hmacer(this.auditSalt)(value)
  }

  async handle(req: LogicalRequest): Promise<CoreReply> {
    const hmac = this.hmac()
    let token: TokenEntry | undefined
    let outcome: Outcome | undefined
    const match = this.router.match(req.path)
    try {
      if (!match) throw new NotFoundError('unsupported_path', 'unsupported path')
      const { route } = match
      const handler = route.handlers[req.operation]
      if (!handler) throw new UnsupportedOperationError(req.operation)
      if (!route.whenSealed && this.barrier.sealed) throw new SealedError()
      if (!route.unauthenticated) {
        token = await this.tokens.lookup(req.token)
        const needed = capabilitiesFor(req.operation)
        if (!this.policies.allows(token.policies, req.path, needed)) throw new PermissionDeniedError()
        if (route.sudo && !this.policies.allows(token.policies, req.path, ['sudo'])) throw new PermissionDeniedError()
      }
    } catch (err) {
      outcome = { ok: false, err: toKeyvaultError(err) }
    }

    if (!outcome && match?.route.batchable && req.data.batch_input !== undefined) {
      const items = batchItems(req.data)
      if (items instanceof KeyvaultError) outcome = { ok: false, err: items }
      else return this.handleBatch(req, match, items, token)
    }

    const pure = match?.route.pure === true && !outcome
    const requestEntry = this.requestEntry(req, token, hmac)
    if (!pure) {
      try {
        await this.audit.record({ kind: 'request', requestId: req.id, entry: requestEntry })
      } catch (err) {
        return this.auditFailed(err, req)
      }
    }

    if (!outcome && match) {
      try {
        const handler = match.route.handlers[req.operation]
        const res = handler ? await handler({ req, params: match.params, token, core: this }) : {}
        outcome = { ok: true, res }
      } catch (err) {
        outcome = { ok: false, err: toKeyvaultError(err) }
      }
    }
    if (outcome && !outcome.ok && outcome.err.statusCode >= 500 && outcome.err.code !== 'sealed') {
      this.onServerError(outcome.err, { id: req.id, path: req.path, operation: req.operation })
    }
    const reply = outcome?.ok ? this.successReply(req, outcome.res) : errorReply(outcome?.err ?? new KeyvaultError('internal', 500, 'internal error'))

    // The salt may have appeared (unseal) or gone (seal) during the handler: use the current one.
    const hmacAfter = this.hmac()
    const response = { status: reply.status, ...(outcome && !outcome.ok ? { error: outcome.err.code } : {}), body: redact(reply.body, hmacAfter) }
    try {
      // A pure call (it only computes) is ONE row holding request and response, committed before the
      // answer: nothing happened between them that an auditor could miss, and it halves the audit
      // rows on the hot paths. A call that changes state has its request row committed before it runs,
      // and its response row names the caller as the salt now stands.
      await this.audit.record(
        pure
          ? { kind: 'exchange', requestId: req.id, entry: { type: 'exchange', auth: requestEntry.auth, request: requestEntry.request, response } }
          : {
              kind: 'response',
              requestId: req.id,
              entry: {
                type: 'response',
                auth: token && req.token ? this.tokenAuditFor(token, req.token, hmacAfter).auth : authEntry(token, hmacAfter),
                request: { id: req.id, operation: req.operation, path: req.path },
                response,
              },
            },
      )
    } catch (err) {
      return this.auditFailed(err, req)
    }
    return reply
  }

  /**
   * `batch_input` on a batchable (pure) route, after seal, token and ACL checks passed: the handler
   * runs per item and an item's error is its `batch_results` entry. Audited like any pure call, as one
   * `exchange` row: the request part holds every item's input (redacted, in order), the response part
   * every item's result plus each item's status and error code; committed before the one answer. The
   * audit cost of a call no longer grows by rows per item. A 5xx of an item is reported like any
   * server error.
   */
  private async handleBatch(req: LogicalRequest, match: { route: PathRoute; params: Record<string, string> }, items: Body[], token: TokenEntry | undefined): Promise<CoreReply> {
    const handler = match.route.handlers[req.operation]
    const hmac = this.hmac()
    const cached = token && req.token ? this.tokenAuditFor(token, req.token, hmac) : undefined
    const auth = cached ? cached.auth : authEntry(token, hmac)
    const clientToken = cached ? cached.clientToken : req.token ? hmac(req.token) : null
    const batchSize = items.length
    const request = { id: req.id, operation: req.operation, path: req.path, remote_address: req.remoteAddress, client_token: clientToken, batch_size: batchSize, data: { batch_input: redact(items, hmac) } }
    const results: unknown[] = new Array<unknown>(batchSize)
    const statuses: number[] = new Array<number>(batchSize)
    const errors: (string | null)[] = new Array<string | null>(batchSize)
    for (let i = 0; i < batchSize; i++) {
      const item = items[i] as Body
      statuses[i] = 200
      errors[i] = null
      try {
        const res = handler ? await handler({ req: { ...req, data: item }, params: match.params, token, core: this }) : {}
        results[i] = res.data ?? null
      } catch (err) {
        const error = toKeyvaultError(err)
        statuses[i] = error.statusCode
        errors[i] = error.code
        if (error.statusCode >= 500 && error.code !== 'sealed') this.onServerError(error, { id: req.id, path: req.path, operation: req.operation })
        results[i] = { error: `${error.code}: ${error.publicMessage}`, code: error.code }
      }
    }
    try {
      await this.audit.record({
        kind: 'exchange',
        requestId: req.id,
        entry: { type: 'exchange', auth, request, response: { status: 200, item_status: statuses, item_error: errors, body: { batch_results: redact(results, hmac) } } },
      })
    } catch (err) {
      return this.auditFailed(err, req)
    }
    return this.successReply(req, { data: { batch_results: results } })
  }

  private auditFailed(err: unknown, req: LogicalRequest): CoreReply {
    const failure = err instanceof AuditFailureError ? err : new AuditFailureError(err)
    this.onServerError(failure, { id: req.id, path: req.path, operation: req.operation })
    return errorReply(failure)
  }

  private requestEntry(req: LogicalRequest, token: TokenEntry | undefined, hmac: Hmacer): { type: 'request'; auth: Record<string, unknown> | null; request: Record<string, unknown> } {
    const cached = token && req.token ? this.tokenAuditFor(token, req.token, hmac) : undefined
    return {
      type: 'request',
      auth: cached ? cached.auth : authEntry(token, hmac),
      request: {
        id: req.id,
        operation: req.operation,
        path: req.path,
        remote_address: req.remoteAddress,
        client_token: cached ? cached.clientToken : req.token ? hmac(req.token) : null,
        data: redact(req.data, hmac),
      },
    }
  }

  private successReply(req: LogicalRequest, res: LogicalResponse): CoreReply {
    if (res.raw !== undefined) return { status: res.status ?? 200, body: res.raw }
    if (res.data === undefined && res.auth === undefined) return { status: res.status ?? 204, body: undefined }
    return {
      status: res.status ?? 200,
      body: {
        request_id: req.id,
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: res.data ?? null,
        wrap_info: null,
        warnings: res.warnings ?? null,
        auth: res.auth ?? null,
      },
    }
  }
}

function authEntry(token: TokenEntry | undefined, hmac: Hmacer): Record<string, unknown> | null {
  if (!token) return null
  return {
    accessor: hmac(token.accessor),
    display_name: token.display_name,
    policies: token.policies,
    metadata: token.meta,
  }
}

/** Most items one `batch_input` may carry. */
export const MAX_BATCH_ITEMS = 256

/** The items of a `batch_input` body, or the error that refuses the whole request. */
function batchItems(data: Body): Body[] | KeyvaultError {
  const items = data.batch_input
  const extra = Object.keys(data).filter((k) => k !== 'batch_input')
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH_ITEMS) {
    return new InvalidRequestError('invalid_batch', `batch_input must be a list of 1..${MAX_BATCH_ITEMS} objects`, { field: 'batch_input' })
  }
  if (extra.length > 0) return new InvalidRequestError('invalid_batch', 'batch_input cannot be combined with other fields', { field: 'batch_input' })
  if (items.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) {
    return new InvalidRequestError('invalid_batch', 'every batch_input item must be an object', { field: 'batch_input' })
  }
  return items as Body[]
}

/** Vault's error body plus a stable `code` for Cardplane callers. */
function errorReply(err: KeyvaultError): CoreReply {
  return { status: err.statusCode, body: { errors: [`${err.code}: ${err.publicMessage}`], code: err.code } }
}

/** Anything thrown below the core becomes a typed, value-free error. */
export function toKeyvaultError(err: unknown): KeyvaultError {
  if (err instanceof KeyvaultError) return err
  if (isPaymentCryptoError(err)) {
    return new KeyvaultError(err.code, err.code === 'not_implemented' ? 501 : 400, err.message, { cause: err })
  }
  if (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' && String((err as { code: string }).code).startsWith('jwt_')) {
    return new PermissionDeniedError((err as { code: string }).code, 'permission denied: invalid JWT-SVID')
  }
  return new KeyvaultError('internal', 500, 'internal error', { cause: err })
}
