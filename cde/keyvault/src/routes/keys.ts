import { tr31Unwrap, tr31Wrap, type Tr31Version } from '@cardplane/payment-crypto'
import { InvalidRequestError, KeyUsageError } from '../domain/errors.js'
import { hex, name, oneOf, optBool, optInt, str, type Body } from '../domain/input.js'
import { KeyStore, type StoredKey } from '../domain/key-store.js'
import { isKeyType, KEY_SPECS, KEY_TYPES, tr31Algorithm, type KeyAlgorithm, type KeyType } from '../domain/key-types.js'
import type { Core } from '../core.js'
import type { PathRoute, RequestContext } from '../http/router.js'

const ALGORITHMS = ['tdes', 'aes', 'hmac'] as const

function keyType(body: Body, dflt?: KeyType): KeyType {
  return oneOf(body, 'type', KEY_TYPES, dflt)
}

function optAlgorithm(body: Body): KeyAlgorithm | undefined {
  return body.algorithm === undefined ? undefined : oneOf(body, 'algorithm', ALGORITHMS)
}

/** Length in bytes: `length` (bytes) or Vault-style `bits`. */
function optLength(body: Body): number | undefined {
  const bits = optInt(body, 'bits', 64, 512)
  return optInt(body, 'length', 8, 64) ?? (bits === undefined ? undefined : bits / 8)
}

async function createKey(ctx: RequestContext, dflt?: KeyType) {
  const n = name(ctx.params.name, 'key name')
  const { created, key } = await ctx.core.keys.create(n, {
    type: keyType(ctx.req.data, dflt),
    algorithm: optAlgorithm(ctx.req.data),
    length: optLength(ctx.req.data),
    exportable: optBool(ctx.req.data, 'exportable'),
  })
  return { data: { ...ctx.core.keys.metadata(key.name), created } }
}

/** Routes shared by `keys/` and `transit/keys/` (same key store, transit defaults to aes256-gcm96). */
function keyAdminRoutes(prefix: string, dflt?: KeyType): PathRoute[] {
  return [
    {
      pattern: prefix,
      handlers: { list: async ({ core }) => ({ data: { keys: core.keys.names() } }) },
    },
    {
      pattern: `${prefix}/:name`,
      handlers: {
        read: async ({ core, params }) => ({ data: core.keys.metadata(name(params.name, 'key name')) }),
        update: (ctx) => createKey(ctx, dflt),
        delete: async ({ core, params }) => {
          await core.keys.delete(name(params.name, 'key name'))
          return {}
        },
      },
    },
    {
      pattern: `${prefix}/:name/rotate`,
      handlers: {
        update: async ({ core, params }) => {
          const k = await core.keys.rotate(name(params.name, 'key name'))
          return { data: core.keys.metadata(k.name) }
        },
      },
    },
    {
      pattern: `${prefix}/:name/config`,
      handlers: {
        update: async ({ core, params, req }) => {
          const k = await core.keys.configure(name(params.name, 'key name'), {
            min_decryption_version: optInt(req.data, 'min_decryption_version', 1, 1_000_000),
            min_encryption_version: optInt(req.data, 'min_encryption_version', 0, 1_000_000),
            exportable: optBool(req.data, 'exportable'),
            deletion_allowed: optBool(req.data, 'deletion_allowed'),
          })
          return { data: core.keys.metadata(k.name) }
        },
      },
    },
  ]
}

function exportBlock(core: Core, key: StoredKey, version: number, kbpkName: string, kbpkVersion?: number): string {
  const kbpk = core.keys.use(kbpkName, 'wrap', kbpkVersion)
  if (!key.exportable) throw new InvalidRequestError('key_not_exportable', `key "${key.name}" is not exportable`)
  const material = key.versions[String(version)]?.material
  if (!material) throw new InvalidRequestError('unknown_key_version', `key "${key.name}" has no version ${version}`)
  const tr31Version: Tr31Version = kbpk.key.algorithm === 'aes' ? 'D' : 'B'
  const spec = KEY_SPECS[key.type]
  return tr31Wrap({
    kbpk: kbpk.material,
    key: material,
    header: {
      version: tr31Version,
      keyUsage: spec.tr31Usages[0] ?? 'D0',
      algorithm: tr31Algorithm(key.algorithm),
      modeOfUse: spec.tr31ModeOfUse,
      keyVersionNumber: String(version % 100).padStart(2, '0'),
      exportability: 'N',
    },
  })
}

function algorithmFromTr31(letter: string): KeyAlgorithm {
  switch (letter) {
    case 'T':
      return 'tdes'
    case 'A':
      return 'aes'
    case 'H':
      return 'hmac'
    default:
      throw new InvalidRequestError('tr31_unsupported_algorithm', 'key block algorithm must be T, A or H')
  }
}

/**
 * `keys/...`: create, read (metadata and KCVs, never material), rotate, config, delete, TR-31 export
 * and import under a KBPK/ZMK, and component ceremonies (dual control).
 */
export const keyRoutes: PathRoute[] = [
  ...keyAdminRoutes('keys'),
  ...keyAdminRoutes('transit/keys', 'aes256-gcm96'),
  {
    pattern: 'keys/:name/export',
    handlers: {
      update: async ({ core, params, req }) => {
        const key = core.keys.get(name(params.name, 'key name'))
        const version = optInt(req.data, 'version', 1, 1_000_000) ?? key.latest_version
        const kbpkName = name(str(req.data, 'kbpk'), 'kbpk')
        const block = exportBlock(core, key, version, kbpkName)
        return { data: { name: key.name, type: key.type, version, kcv: key.versions[String(version)]?.kcv, kbpk: kbpkName, key_block: block } }
      },
    },
  },
  {
    pattern: 'keys/:name/import',
    handlers: {
      update: async ({ core, params, req }) => {
        const n = name(params.name, 'key name')
        const kbpkName = name(str(req.data, 'kbpk'), 'kbpk')
        const kbpk = core.keys.use(kbpkName, 'wrap')
        const keyBlock = str(req.data, 'key_block')
        // The MAC is verified before anything is used; a bad block throws tr31_mac_mismatch (400).
        const { header, key: material } = tr31Unwrap({ kbpk: kbpk.material, keyBlock })
        const requested = req.data.type === undefined ? undefined : keyType(req.data)
        const type = requested ?? KEY_TYPES.find((t) => KEY_SPECS[t].tr31Usages.includes(header.keyUsage))
        if (!type || !isKeyType(type)) throw new InvalidRequestError('tr31_unknown_usage', 'key block usage does not map to a key type')
        if (!KEY_SPECS[type].tr31Usages.includes(header.keyUsage)) throw new KeyUsageError(n, type, `import of a ${header.keyUsage} key block`)
        const algorithm = algorithmFromTr31(header.algorithm)
        const length = material.length / 2
        if (!(KEY_SPECS[type].algorithms[algorithm] ?? []).includes(length)) {
          throw new InvalidRequestError('invalid_key_length', `a ${type} ${algorithm} key cannot be ${length} bytes`)
        }
        const base = core.keys.has(n) ? core.keys.get(n) : undefined
        const exportable = optBool(req.data, 'exportable') ?? header.exportability === 'E'
        const key = KeyStore.withVersion(base, { name: n, type, algorithm, length, exportable: base?.exportable ?? exportable }, material, 'tr31')
        await core.barrier.apply([KeyStore.putOp(key)])
        core.keys.adopt(key)
        return { data: { ...core.keys.metadata(n), imported_version: key.latest_version, kcv: key.versions[String(key.latest_version)]?.kcv } }
      },
    },
  },
  {
    pattern: 'keys/:name/ceremony',
    handlers: {
      update: async ({ core, params, req, token }) => {
        const st = await core.ceremonies.start(name(params.name, 'key name'), {
          type: keyType(req.data),
          algorithm: optAlgorithm(req.data),
          length: optLength(req.data),
          components: optInt(req.data, 'components', 2, 9) ?? 2,
          exportable: optBool(req.data, 'exportable') ?? false,
          startedBy: token?.display_name ?? 'unknown',
        })
        return { data: st }
      },
      read: async ({ core, params }) => ({ data: await core.ceremonies.status(name(params.name, 'key name')) }),
      delete: async ({ core, params }) => {
        await core.ceremonies.cancel(name(params.name, 'key name'))
        return {}
      },
    },
  },
  {
    pattern: 'keys/:name/ceremony/component',
    handlers: {
      update: async ({ core, params, req, token }) => {
        const custodian = name(str(req.data, 'custodian'), 'custodian')
        const component = hex(req.data, 'component', [8, 16, 24, 32, 64])
        const kcv = hex(req.data, 'kcv', [3])
        const { result } = await core.ceremonies.enter(name(params.name, 'key name'), {
          custodian,
          accessor: token?.accessor ?? '',
          tokenCustodian: token?.meta.custodian,
          component,
          kcv,
        })
        return { data: result }
      },
    },
  },
  {
    pattern: 'keys/:name/kcv',
    handlers: {
      read: async ({ core, params }) => {
        const k = core.keys.get(name(params.name, 'key name'))
        return { data: { name: k.name, latest_version: k.latest_version, kcv: k.versions[String(k.latest_version)]?.kcv } }
      },
    },
  },
]

