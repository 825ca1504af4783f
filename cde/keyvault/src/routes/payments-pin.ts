import { randomInt } from 'node:crypto'
import {
  decodePinBlock,
  decryptPinBlock,
  DEFAULT_DECIMALIZATION_TABLE,
  encodePinBlock,
  encryptPinBlock,
  ibm3624Offset,
  pvv,
  translatePinBlock,
  verifyIbm3624,
  verifyPvv,
  type PinBlockFormat,
} from '@cardplane/payment-crypto'
import { InvalidRequestError } from '../domain/errors.js'
import { digits, hex, name, optBool, optHex, optInt, str, type Body } from '../domain/input.js'
import type { Core } from '../core.js'
import type { PathRoute } from '../http/router.js'

function format(body: Body, field: string): PinBlockFormat {
  const f = optInt(body, field, 0, 4)
  if (f === undefined) throw new InvalidRequestError('missing_field', `${field} is required (0-4)`, { field })
  return f as PinBlockFormat
}

function blockBytes(f: PinBlockFormat): number[] {
  return f === 4 ? [16] : [8]
}

/**
 * The PIN from a PIN block under a ZPK, kept inside this function's callers only. The decimalisation
 * table is never taken from the caller: a caller-chosen table lets an attacker learn PIN digits one
 * guess at a time (the Bond/Zieliński decimalisation-table attack), so the service uses its fixed table.
 */
function pinFromBlock(core: Core, body: Body): { pin: string; pan: string } {
  const zpk = core.keys.use(name(str(body, 'zpk'), 'zpk'), 'pin-verify-source')
  const f = format(body, 'format')
  const pan = digits(body, 'pan', 12, 19)
  const block = hex(body, 'pin_block', blockBytes(f))
  const clear = decryptPinBlock({ key: zpk.material, block, format: f, pan })
  return { pin: decodePinBlock({ format: f, block: clear, pan }), pan }
}

function refuseDecimalizationTable(body: Body): void {
  if (body.decimalization_table !== undefined || body.decimalisation_table !== undefined || body.dec_table !== undefined) {
    throw new InvalidRequestError('decimalization_table_not_allowed', 'the decimalisation table is fixed by the key service and cannot be supplied')
  }
}

/**
 * PIN engine: `payments/pin/translate` (ZPK → ZPK, any ISO format 0–4), Visa PVV generate/verify and
 * IBM 3624 offset generate/verify from a PIN block under a ZPK. Clear PINs cross the API only at
 * `payments/pin/encrypt|decrypt/<pek>`, under the issuer's PIN storage key (PIN set / PIN reveal);
 * `payments/pin/rewrap/<pek>` moves a stored block to the key's newest version without a clear PIN out.
 */
export const pinRoutes: PathRoute[] = [
  {
    pattern: 'payments/pin/translate',
    pure: true,
    handlers: {
      update: async ({ core, req }) => {
        const src = core.keys.use(name(str(req.data, 'source_key'), 'source_key'), 'pin-translate')
        const dst = core.keys.use(name(str(req.data, 'destination_key'), 'destination_key'), 'pin-translate')
        const sourceFormat = format(req.data, 'source_format')
        const destFormat = format(req.data, 'destination_format')
        const pinBlock = translatePinBlock({
          sourceKey: src.material,
          destKey: dst.material,
          block: hex(req.data, 'pin_block', blockBytes(sourceFormat)),
          sourceFormat,
          destFormat,
          pan: digits(req.data, 'pan', 12, 19),
        })
        return { data: { pin_block: pinBlock, destination_format: destFormat, source_key_version: src.version, destination_key_version: dst.version } }
      },
    },
  },
  {
    pattern: 'payments/pin/pvv/generate/:pvk',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const k = core.keys.use(name(params.pvk, 'pvk'), 'pvv')
        const pvki = digits(req.data, 'pvki', 1, 1)
        if (optBool(req.data, 'generate_pin')) {
          // Random PIN, returned only as a PIN block under the ZPK (for the PIN mailer / reveal page).
          const zpk = core.keys.use(name(str(req.data, 'zpk'), 'zpk'), 'pin-translate')
          const f = format(req.data, 'format')
          const pan = digits(req.data, 'pan', 12, 19)
          const len = optInt(req.data, 'pin_length', 4, 12) ?? 4
          const pin = Array.from({ length: len }, () => String(randomInt(10))).join('')
          const block = encryptPinBlock({ key: zpk.material, clearBlock: encodePinBlock({ format: f, pin, pan }), format: f, pan })
          return { data: { pvv: pvv({ pvk: k.material, pan, pvki, pin }), pin_block: block, key_version: k.version, pin_block_key_version: zpk.version } }
        }
        const { pin, pan } = pinFromBlock(core, req.data)
        return { data: { pvv: pvv({ pvk: k.material, pan, pvki, pin }), key_version: k.version } }
      },
    },
  },
  {
    pattern: 'payments/pin/pvv/verify/:pvk',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const k = core.keys.use(name(params.pvk, 'pvk'), 'pvv', optInt(req.data, 'key_version', 1, 1_000_000))
        const pvki = digits(req.data, 'pvki', 1, 1)
        const expected = digits(req.data, 'pvv', 4, 4)
        const { pin, pan } = pinFromBlock(core, req.data)
        return { data: { valid: verifyPvv({ pvk: k.material, pan, pvki, pin, pvv: expected }), key_version: k.version } }
      },
    },
  },
  {
    // Clear PIN in, PIN block out: the cardholder's PIN-set page (an HSM's "encrypt a clear PIN").
    // Only a `pek` (PIN storage key) accepts it, so a link's ZPK never wraps a PIN typed on the web.
    pattern: 'payments/pin/encrypt/:pek',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const k = core.keys.use(name(params.pek, 'pek'), 'pin-encrypt')
        const f = format(req.data, 'format')
        const pan = digits(req.data, 'pan', 12, 19)
        const pin = digits(req.data, 'pin', 4, 12)
        const block = encryptPinBlock({ key: k.material, clearBlock: encodePinBlock({ format: f, pin, pan }), format: f, pan })
        return { data: { pin_block: block, key_version: k.version } }
      },
    },
  },
  {
    // PIN block under a `pek` in, clear PIN out: PIN reveal to the cardholder. No other key type.
    pattern: 'payments/pin/decrypt/:pek',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const k = core.keys.use(name(params.pek, 'pek'), 'pin-decrypt', optInt(req.data, 'key_version', 1, 1_000_000))
        const f = format(req.data, 'format')
        const pan = digits(req.data, 'pan', 12, 19)
        const clear = decryptPinBlock({ key: k.material, block: hex(req.data, 'pin_block', blockBytes(f)), format: f, pan })
        return { data: { pin: decodePinBlock({ format: f, block: clear, pan }), key_version: k.version } }
      },
    },
  },
  {
    // A stored PIN block moved to the key's newest version after a rotation: decrypted under the version
    // it is under and encrypted again under the current one inside this handler; the clear PIN never
    // leaves it (nor the service). Only a `pek`, like encrypt/decrypt: a link ZPK's blocks are translated.
    pattern: 'payments/pin/rewrap/:pek',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const n = name(params.pek, 'pek')
        const from = optInt(req.data, 'key_version', 1, 1_000_000)
        if (from === undefined) throw new InvalidRequestError('missing_field', 'key_version is required (the version the block is under)', { field: 'key_version' })
        const src = core.keys.use(n, 'pin-decrypt', from)
        const dst = core.keys.use(n, 'pin-encrypt')
        const f = format(req.data, 'format')
        const pan = digits(req.data, 'pan', 12, 19)
        const clear = decryptPinBlock({ key: src.material, block: hex(req.data, 'pin_block', blockBytes(f)), format: f, pan })
        // Decode (checks the block is a well-formed PIN block for this PAN) and encode afresh: format 4's
        // random fill is new, so the new block shares nothing with the old one but the PIN.
        const block = encryptPinBlock({ key: dst.material, clearBlock: encodePinBlock({ format: f, pin: decodePinBlock({ format: f, block: clear, pan }), pan }), format: f, pan })
        return { data: { pin_block: block, key_version: dst.version } }
      },
    },
  },
  {
    pattern: 'payments/pin/ibm3624/generate/:pvk',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        refuseDecimalizationTable(req.data)
        const k = core.keys.use(name(params.pvk, 'pvk'), 'ibm3624')
        const { pin, pan } = pinFromBlock(core, req.data)
        const offset = ibm3624Offset({ pvk: k.material, pan, validationData: optHex(req.data, 'validation_data', [8]), decimalizationTable: DEFAULT_DECIMALIZATION_TABLE, pin })
        return { data: { offset, key_version: k.version } }
      },
    },
  },
  {
    pattern: 'payments/pin/ibm3624/verify/:pvk',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        refuseDecimalizationTable(req.data)
        const k = core.keys.use(name(params.pvk, 'pvk'), 'ibm3624', optInt(req.data, 'key_version', 1, 1_000_000))
        const offset = digits(req.data, 'offset', 4, 12)
        const { pin, pan } = pinFromBlock(core, req.data)
        const valid = verifyIbm3624({ pvk: k.material, pan, validationData: optHex(req.data, 'validation_data', [8]), decimalizationTable: DEFAULT_DECIMALIZATION_TABLE, pin, offset })
        return { data: { valid, key_version: k.version } }
      },
    },
  },
]
