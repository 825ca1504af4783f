import { createCvvContext, cvc3, verifyCvc3, type CvvContext } from '@cardplane/payment-crypto'
import { digits, hex, name, oneOf, optHex, optInt, optStr, type Body } from '../domain/input.js'
import type { Core } from '../core.js'
import type { PathRoute } from '../http/router.js'

const KINDS = ['cvv', 'cvv2', 'icvv', 'cvc3'] as const

function isCvc3(body: Body): boolean {
  return body.kind === 'cvc3'
}

/** Service code per kind: the track's for CVV, `000` for CVV2, `999` for iCVV. */
function cvvInput(core: Core, keyName: string, body: Body, verify: boolean) {
  const kind = oneOf(body, 'kind', KINDS, 'cvv')
  const k = core.keys.use(name(keyName, 'key name'), 'cvv', verify ? optInt(body, 'key_version', 1, 1_000_000) : undefined)
  const pan = digits(body, 'pan', 12, 19)
  const expiry = digits(body, 'expiry', 4, 4)
  const serviceCode = kind === 'cvv2' ? '000' : kind === 'icvv' ? '999' : digits(body, 'service_code', 3, 3)
  // The CVK's OpenSSL contexts are prepared once per key version while unsealed (KeyStore.context).
  const ctx = core.keys.context<CvvContext>(k, 'cvv', createCvvContext)
  return { k, ctx, input: { pan, expiry, serviceCode } }
}

function cvc3Input(core: Core, keyName: string, body: Body, verify: boolean) {
  const k = core.keys.use(name(keyName, 'key name'), 'cvc3', verify ? optInt(body, 'key_version', 1, 1_000_000) : undefined)
  return {
    k,
    input: {
      imk: k.material,
      pan: digits(body, 'pan', 12, 19),
      psn: optStr(body, 'psn') === undefined ? '00' : digits(body, 'psn', 2, 2),
      trackData: optHex(body, 'track_data'),
      ivCvc3: optHex(body, 'iv_cvc3', [2]),
      un: hex(body, 'un', [4]),
      atc: hex(body, 'atc', [2]),
      digits: optInt(body, 'digits', 1, 5),
    },
  }
}

/**
 * Card verification values: `payments/cvv/{generate,verify}/<key>` for CVV, CVV2 and iCVV under a CVK
 * (`kind`), and `kind: cvc3` under an IMK-CVC3; `payments/cvc3/{generate,verify}/<imk-cvc3>` is the
 * same CVC3 with its own field name.
 */
export const cvvRoutes: PathRoute[] = [
  {
    pattern: 'payments/cvv/generate/:key',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        if (isCvc3(req.data)) {
          // `kind: cvc3` on the CVV path: same answer as payments/cvc3/generate, in the `cvv` field.
          const c = cvc3Input(core, params.key ?? '', req.data, false)
          return { data: { cvv: cvc3(c.input), key_version: c.k.version } }
        }
        const { k, ctx, input } = cvvInput(core, params.key ?? '', req.data, false)
        return { data: { cvv: ctx.cvv(input), key_version: k.version } }
      },
    },
  },
  {
    pattern: 'payments/cvv/verify/:key',
    pure: true,
    // `batch_input: [{pan, expiry, kind?, service_code?, cvv, key_version?}, ...]` → `batch_results`.
    batchable: true,
    handlers: {
      update: async ({ core, params, req }) => {
        if (isCvc3(req.data)) {
          const c = cvc3Input(core, params.key ?? '', req.data, true)
          return { data: { valid: verifyCvc3({ ...c.input, cvc3: digits(req.data, 'cvv', 1, 5) }), key_version: c.k.version } }
        }
        const { k, ctx, input } = cvvInput(core, params.key ?? '', req.data, true)
        const value = digits(req.data, 'cvv', 3, 3)
        return { data: { valid: ctx.verifyCvv({ ...input, cvv: value }), key_version: k.version } }
      },
    },
  },
  {
    pattern: 'payments/cvc3/generate/:key',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const { k, input } = cvc3Input(core, params.key ?? '', req.data, false)
        return { data: { cvc3: cvc3(input), key_version: k.version } }
      },
    },
  },
  {
    pattern: 'payments/cvc3/verify/:key',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const { k, input } = cvc3Input(core, params.key ?? '', req.data, true)
        const value = digits(req.data, 'cvc3', 1, 5)
        return { data: { valid: verifyCvc3({ ...input, cvc3: value }), key_version: k.version } }
      },
    },
  },
]
