import { Core } from '../core.js'
import { InvalidRequestError } from '../domain/errors.js'
import { optBool, optInt, optStr } from '../domain/input.js'
import type { PathRoute } from '../http/router.js'

/**
 * `sys/init`, `sys/unseal`, `sys/seal`, `sys/seal-status`, `sys/health`: the paths that work while
 * sealed. Bodies are bare (no envelope), as in Vault.
 */
export const sysSealRoutes: PathRoute[] = [
  {
    pattern: 'sys/init',
    unauthenticated: true,
    whenSealed: true,
    handlers: {
      read: async ({ core }) => ({ raw: { initialized: (await core.seal.loadConfig()) !== undefined } }),
      update: async ({ core, req }) => {
        if (req.data.pgp_keys !== undefined || req.data.root_token_pgp_key !== undefined) {
          throw new InvalidRequestError('unsupported_field', 'PGP-encrypted shares are not supported')
        }
        const shares = optInt(req.data, 'secret_shares', 1, 255) ?? 5
        const threshold = optInt(req.data, 'secret_threshold', 1, 255) ?? 3
        let rootToken = ''
        const result = await core.seal.init(shares, threshold, async (barrier) => {
          rootToken = (await Core.initialWrites(barrier)).rootToken
        })
        const hexShares = result.shares.map((s) => s.toString('hex'))
        const b64Shares = result.shares.map((s) => s.toString('base64'))
        result.unsealKey.fill(0)
        result.shares.forEach((s) => s.fill(0))
        return { raw: { keys: hexShares, keys_base64: b64Shares, root_token: rootToken } }
      },
    },
  },
  {
    pattern: 'sys/unseal',
    unauthenticated: true,
    whenSealed: true,
    handlers: {
      update: async ({ core, req }) => {
        const reset = optBool(req.data, 'reset') ?? false
        const key = optStr(req.data, 'key')
        let share: Buffer | undefined
        if (key !== undefined) {
          if (/^[0-9a-fA-F]+$/.test(key) && key.length % 2 === 0) share = Buffer.from(key, 'hex')
          else if (/^[A-Za-z0-9+/]+={0,2}$/.test(key)) share = Buffer.from(key, 'base64')
          else throw new InvalidRequestError('invalid_hex', 'key must be a hex or base64 unseal key share')
        }
        return { raw: await core.seal.unseal(share, reset) }
      },
    },
  },
  {
    pattern: 'sys/seal-status',
    unauthenticated: true,
    whenSealed: true,
    handlers: { read: async ({ core }) => ({ raw: await core.seal.status() }) },
  },
  {
    pattern: 'sys/seal',
    sudo: true,
    handlers: {
      update: async ({ core }) => {
        core.seal.sealNow()
        return {}
      },
    },
  },
  {
    pattern: 'sys/health',
    unauthenticated: true,
    whenSealed: true,
    handlers: {
      read: async ({ core, req }) => {
        const st = await core.seal.status()
        const code = (name: string, dflt: number): number => {
          const v = req.query[name]
          return v !== undefined && /^\d{3}$/.test(v) ? Number(v) : dflt
        }
        const status = !st.initialized ? code('uninitcode', 501) : st.sealed ? code('sealedcode', 503) : code('activecode', 200)
        return {
          status,
          raw: {
            initialized: st.initialized,
            sealed: st.sealed,
            standby: false,
            performance_standby: false,
            replication_performance_mode: 'disabled',
            replication_dr_mode: 'disabled',
            server_time_utc: Math.floor(Date.now() / 1000),
            version: st.version,
            cluster_name: 'cardplane-keyvault',
          },
        }
      },
    },
  },
]
