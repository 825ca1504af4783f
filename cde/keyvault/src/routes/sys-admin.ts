import { name, str } from '../domain/input.js'
import type { PathRoute } from '../http/router.js'

/** The engines this service mounts, in `sys/mounts` form. */
const MOUNTS: Record<string, { type: string; description: string }> = {
  'sys/': { type: 'system', description: 'seal, policies, barrier rotation, health' },
  'auth/': { type: 'auth', description: 'token and spiffe (JWT-SVID) login' },
  'keys/': { type: 'cardplane-keys', description: 'named, versioned keys; ceremonies; TR-31 import/export' },
  'transit/': { type: 'transit', description: 'encrypt, decrypt, rewrap, datakey, hmac' },
  'payments/': { type: 'cardplane-payments', description: 'CVV/iCVV/CVV2/CVC3, PIN translate, PVV, IBM 3624, ARQC/ARPC, MAC' },
}

/** `sys/mounts`, `sys/policy[/name]`, `sys/rotate`, `sys/key-status`, `sys/audit-hash`. */
export const sysAdminRoutes: PathRoute[] = [
  {
    pattern: 'sys/mounts',
    handlers: {
      read: async () => {
        const data = Object.fromEntries(Object.entries(MOUNTS).map(([k, v]) => [k, { ...v, accessor: k.replace('/', ''), config: {}, local: true, seal_wrap: false }]))
        return { data }
      },
    },
  },
  {
    pattern: 'sys/policy',
    handlers: {
      read: async ({ core }) => ({ data: { keys: core.policies.names(), policies: core.policies.names() } }),
      list: async ({ core }) => ({ data: { keys: core.policies.names() } }),
    },
  },
  {
    pattern: 'sys/policy/:name',
    handlers: {
      read: async ({ core, params }) => {
        const p = core.policies.get(name(params.name, 'policy name'))
        return { data: { name: p.name, rules: p.text } }
      },
      update: async ({ core, params, req }) => {
        // Vault's field is `policy` (older clients send `rules`).
        const text = req.data.policy !== undefined ? str(req.data, 'policy') : str(req.data, 'rules')
        await core.policies.put(name(params.name, 'policy name'), text)
        return {}
      },
      delete: async ({ core, params }) => {
        await core.policies.delete(name(params.name, 'policy name'))
        return {}
      },
    },
  },
  {
    pattern: 'sys/rotate',
    sudo: true,
    handlers: {
      update: async ({ core }) => {
        await core.barrier.rotate()
        return {}
      },
    },
  },
  {
    pattern: 'sys/key-status',
    handlers: { read: async ({ core }) => ({ data: core.barrier.keyStatus() }) },
  },
  {
    pattern: 'sys/audit-hash',
    handlers: { update: async ({ core, req }) => ({ data: { hash: core.auditHash(str(req.data, 'input')) } }) },
  },
]
