import { validateJwtSvid } from '@cardplane/spiffe'
import { allowedCallers, groupsAdjacent, serviceBySpiffeId } from '@cardplane/zones'
import { PermissionDeniedError } from '../domain/errors.js'
import { str } from '../domain/input.js'
import type { PathRoute } from '../http/router.js'
import { authBlock } from './auth-token.js'

/**
 * `auth/spiffe/login` `{ jwt }`: the caller's JWT-SVID (audience = this service's SPIFFE ID) is
 * validated against the trust bundle from the Workload API; the SPIFFE ID must be a zone-map service
 * that may call the key service (today only card-vault) and must have a role in config. The answer is
 * a short-lived token carrying that role's policies.
 */
export const authSpiffeRoutes: PathRoute[] = [
  {
    pattern: 'auth/spiffe/login',
    unauthenticated: true,
    handlers: {
      update: async ({ core, req }) => {
        const { self, zoneMap, bundles, spiffeRoles, tokenTtlSec } = core.settings
        const jwt = str(req.data, 'jwt')
        const { spiffeId } = await validateJwtSvid(jwt, { audience: self.spiffeId, trustDomain: zoneMap.trustDomain, bundles })
        const caller = serviceBySpiffeId(zoneMap, spiffeId)
        if (!caller) throw new PermissionDeniedError('unknown_workload', 'permission denied: SPIFFE ID not in the zone map')
        const allowed = allowedCallers(zoneMap, self.name).some((s) => s.name === caller.name)
        if (!allowed || !groupsAdjacent(caller.group, self.group)) {
          throw new PermissionDeniedError('caller_not_allowed', 'permission denied: this workload may not call the key service')
        }
        const policies = spiffeRoles[caller.name]
        if (!policies || policies.length === 0) throw new PermissionDeniedError('no_role', 'permission denied: no role for this workload')
        const meta = { spiffe_id: spiffeId, service: caller.name }
        const { token, entry } = await core.tokens.create({ policies, displayName: `spiffe-${caller.name}`, ttlSec: tokenTtlSec, meta })
        return { auth: authBlock(token, entry, tokenTtlSec) }
      },
    },
  },
]
