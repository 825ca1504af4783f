import { InvalidRequestError, PermissionDeniedError } from '../domain/errors.js'
import { optInt, optStr } from '../domain/input.js'
import type { TokenEntry } from '../domain/tokens.js'
import type { AuthBlock, PathRoute } from '../http/router.js'

export function authBlock(token: string, e: TokenEntry, ttl: number): AuthBlock {
  return {
    client_token: token,
    accessor: e.accessor,
    policies: e.policies,
    token_policies: e.policies,
    metadata: e.meta,
    lease_duration: ttl,
    renewable: false,
    entity_id: '',
    token_type: 'service',
    orphan: e.parent === undefined,
  }
}

/**
 * `auth/token/lookup-self`, `auth/token/revoke-self`, `auth/token/create`. Token creation is how the
 * root token (or an operator policy) issues per-custodian tokens for a key ceremony: `meta.custodian`
 * binds the token to one named custodian.
 */
export const authTokenRoutes: PathRoute[] = [
  {
    pattern: 'auth/token/lookup-self',
    handlers: {
      read: async ({ core, token }) => {
        const e = mustToken(token)
        return {
          data: {
            accessor: e.accessor,
            creation_time: e.creation_time,
            creation_ttl: e.ttl,
            display_name: e.display_name,
            expire_time: e.expire_time === 0 ? null : new Date(e.expire_time * 1000).toISOString(),
            explicit_max_ttl: 0,
            id: '',
            meta: e.meta,
            num_uses: 0,
            orphan: e.parent === undefined,
            path: e.meta.spiffe_id ? 'auth/spiffe/login' : 'auth/token/create',
            policies: e.policies,
            renewable: false,
            ttl: core.tokens.ttlLeft(e),
            type: 'service',
          },
        }
      },
    },
  },
  {
    pattern: 'auth/token/revoke-self',
    handlers: {
      update: async ({ core, token }) => {
        await core.tokens.revoke(mustToken(token))
        return {}
      },
    },
  },
  {
    pattern: 'auth/token/create',
    handlers: {
      update: async ({ core, token, req }) => {
        const parent = mustToken(token)
        const policies = req.data.policies ?? []
        if (!Array.isArray(policies) || policies.some((p) => typeof p !== 'string')) {
          throw new InvalidRequestError('invalid_field', 'policies must be a list of names')
        }
        // A child never holds more than its parent: only root may mint root, others only subsets.
        if (!parent.policies.includes('root') && (policies as string[]).some((p) => !parent.policies.includes(p))) {
          throw new PermissionDeniedError('policy_escalation', 'permission denied: cannot grant policies the parent token lacks')
        }
        for (const p of policies as string[]) if (p !== 'root' && p !== 'default') core.policies.get(p)
        const ttl = optInt(req.data, 'ttl', 60, 30 * 24 * 3600) ?? 3600
        const meta: Record<string, string> = {}
        const rawMeta = req.data.meta
        if (rawMeta !== undefined) {
          if (typeof rawMeta !== 'object' || rawMeta === null || Object.values(rawMeta).some((v) => typeof v !== 'string')) {
            throw new InvalidRequestError('invalid_field', 'meta must be an object of strings')
          }
          Object.assign(meta, rawMeta)
        }
        const displayName = optStr(req.data, 'display_name') ?? (meta.custodian ? `custodian-${meta.custodian}` : 'token')
        const { token: t, entry } = await core.tokens.create({ policies: policies as string[], displayName, ttlSec: ttl, meta, parent: parent.id })
        return { auth: authBlock(t, entry, ttl) }
      },
    },
  },
]

function mustToken(t: TokenEntry | undefined): TokenEntry {
  if (!t) throw new PermissionDeniedError()
  return t
}
