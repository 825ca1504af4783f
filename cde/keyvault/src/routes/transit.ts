import { randomBytes } from 'node:crypto'
import { InvalidRequestError } from '../domain/errors.js'
import { base64, name, oneOf, optInt, optStr, str, type Body } from '../domain/input.js'
import { gcmDecrypt, gcmEncrypt, hmacMatches, hmacValue, parseVaultValue } from '../engines/transit.js'
import type { Core } from '../core.js'
import type { PathRoute } from '../http/router.js'

function aad(body: Body): Buffer | undefined {
  return optStr(body, 'associated_data') === undefined ? undefined : base64(body, 'associated_data')
}

function decryptOne(core: Core, keyName: string, ciphertext: string, associated?: Buffer): { plaintext: Buffer; version: number } {
  const { version, bytes } = parseVaultValue(ciphertext, 'ciphertext')
  const k = core.keys.use(keyName, 'encrypt', version)
  return { plaintext: gcmDecrypt(k.material, bytes, associated), version }
}

/**
 * Transit-style engine over `aes256-gcm96` and `hmac` keys: encrypt, decrypt, rewrap, datakey
 * (plaintext and wrapped), hmac and verify. Key versions appear in every ciphertext; decryption below
 * `min_decryption_version` is refused.
 */
export const transitRoutes: PathRoute[] = [
  {
    pattern: 'transit/encrypt/:name',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const k = core.keys.use(name(params.name, 'key name'), 'encrypt', optInt(req.data, 'key_version', 1, 1_000_000))
        const plaintext = base64(req.data, 'plaintext')
        return { data: { ciphertext: gcmEncrypt(k.material, k.version, plaintext, aad(req.data)), key_version: k.version } }
      },
    },
  },
  {
    pattern: 'transit/decrypt/:name',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const { plaintext } = decryptOne(core, name(params.name, 'key name'), str(req.data, 'ciphertext'), aad(req.data))
        return { data: { plaintext: plaintext.toString('base64') } }
      },
    },
  },
  {
    pattern: 'transit/rewrap/:name',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const n = name(params.name, 'key name')
        const associated = aad(req.data)
        const { plaintext } = decryptOne(core, n, str(req.data, 'ciphertext'), associated)
        const k = core.keys.use(n, 'encrypt', optInt(req.data, 'key_version', 1, 1_000_000))
        const out = gcmEncrypt(k.material, k.version, plaintext, associated)
        plaintext.fill(0)
        return { data: { ciphertext: out, key_version: k.version } }
      },
    },
  },
  {
    pattern: 'transit/datakey/:kind/:name',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const kind = oneOf({ kind: params.kind }, 'kind', ['plaintext', 'wrapped'] as const)
        const bits = optInt(req.data, 'bits', 128, 512) ?? 256
        if (bits !== 128 && bits !== 256 && bits !== 512) throw new InvalidRequestError('invalid_field', 'bits must be 128, 256 or 512')
        const k = core.keys.use(name(params.name, 'key name'), 'encrypt')
        const dataKey = randomBytes(bits / 8)
        const ciphertext = gcmEncrypt(k.material, k.version, dataKey, aad(req.data))
        const data = { ciphertext, key_version: k.version, ...(kind === 'plaintext' ? { plaintext: dataKey.toString('base64') } : {}) }
        return { data }
      },
    },
  },
  {
    pattern: 'transit/hmac/:name',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const k = core.keys.use(name(params.name, 'key name'), 'hmac', optInt(req.data, 'key_version', 1, 1_000_000))
        return { data: { hmac: hmacValue(k.material, k.version, base64(req.data, 'input')), key_version: k.version } }
      },
    },
  },
  {
    pattern: 'transit/verify/:name',
    pure: true,
    handlers: {
      update: async ({ core, params, req }) => {
        const { version, bytes } = parseVaultValue(str(req.data, 'hmac'), 'hmac')
        const k = core.keys.use(name(params.name, 'key name'), 'hmac', version)
        return { data: { valid: hmacMatches(k.material, base64(req.data, 'input'), bytes) } }
      },
    },
  },
]
