import { timingSafeEqual } from 'node:crypto'
import { cmac, retailMac } from '@cardplane/payment-crypto'
import { InvalidRequestError } from '../domain/errors.js'
import { hex, name, oneOf, optInt, type Body } from '../domain/input.js'
import type { Core } from '../core.js'
import type { PathRoute } from '../http/router.js'

function compute(core: Core, keyName: string, body: Body, version?: number): { mac: string; version: number } {
  const k = core.keys.use(name(keyName, 'key name'), 'mac', version)
  const algorithm = oneOf(body, 'mac_algorithm', ['retail', 'cmac'] as const, k.key.algorithm === 'tdes' && k.key.length === 16 ? 'retail' : 'cmac')
  const data = hex(body, 'data')
  const length = optInt(body, 'length', 4, 16)
  if (algorithm === 'retail') {
    if (k.key.algorithm !== 'tdes' || k.key.length !== 16) throw new InvalidRequestError('invalid_algorithm', 'retail MAC needs a double-length TDES key')
    const padding = (optInt(body, 'padding', 1, 2) ?? 1) as 1 | 2
    return { mac: retailMac({ key: k.material, data, padding, length: length ?? 8 }), version: k.version }
  }
  return { mac: cmac({ key: k.material, data, algorithm: k.key.algorithm === 'aes' ? 'aes' : 'tdes', ...(length ? { length } : {}) }), version: k.version }
}

/** MAC engine: `payments/mac/{generate,verify}/<mac key>`, ISO 9797-1 algorithm 3 (retail) or CMAC. */
export const macRoutes: PathRoute[] = [
  {
    pattern: 'payments/mac/generate/:key',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const { mac, version } = compute(core, params.key ?? '', req.data)
        return { data: { mac, key_version: version } }
      },
    },
  },
  {
    pattern: 'payments/mac/verify/:key',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const given = hex(req.data, 'mac', [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
        const body = { ...req.data, length: given.length / 2 }
        const { mac, version } = compute(core, params.key ?? '', body, optInt(req.data, 'key_version', 1, 1_000_000))
        const valid = mac.length === given.length && timingSafeEqual(Buffer.from(mac), Buffer.from(given))
        return { data: { valid, key_version: version } }
      },
    },
  },
]
