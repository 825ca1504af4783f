import { ARQC_PROFILES, createArqcContext, type ArqcContext } from '@cardplane/payment-crypto'
import { digits, hex, name, oneOf, optHex, optInt, optStr } from '../domain/input.js'
import type { PathRoute } from '../http/router.js'

/**
 * `payments/emv/arqc/verify/<imk-ac>`: verifies the ARQC by scheme profile (Visa CVN 10/18/22,
 * Mastercard CVN 16/17) and, when it is good and an ARC (method 1) or CSU (method 2) is given,
 * returns the ARPC. A wrong cryptogram is `valid: false` (not an error): it is a card outcome.
 */
export const emvRoutes: PathRoute[] = [
  {
    pattern: 'payments/emv/arqc/verify/:imk',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const k = core.keys.use(name(params.imk, 'imk'), 'arqc', optInt(req.data, 'key_version', 1, 1_000_000))
        const b = req.data
        const ctx = core.keys.context<ArqcContext>(k, 'arqc', createArqcContext)
        const result = ctx.verifyArqcProfile({
          profile: oneOf(b, 'profile', ARQC_PROFILES),
          pan: digits(b, 'pan', 12, 19),
          psn: optStr(b, 'psn') === undefined ? '00' : digits(b, 'psn', 2, 2),
          atc: hex(b, 'atc', [2]),
          un: optHex(b, 'un', [4]),
          cdolData: hex(b, 'cdol_data'),
          arqc: hex(b, 'arqc', [8]),
          arc: optHex(b, 'arc', [2]),
          csu: optHex(b, 'csu', [4]),
          proprietaryAuthData: optHex(b, 'proprietary_auth_data'),
        })
        return { data: { valid: result.ok, arpc: result.arpc, key_version: k.version } }
      },
    },
  },
]
