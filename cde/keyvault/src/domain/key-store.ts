import { randomBytes } from 'node:crypto'
import type { Barrier } from './barrier.js'
import { ConflictError, InvalidRequestError, KeyUsageError, NotFoundError } from './errors.js'
import { KEY_SPECS, keyKcv, type KeyAlgorithm, type KeyOperation, type KeyType } from './key-types.js'

/** One version of a key. Material is uppercase hex and only ever exists inside the barrier. */
export interface KeyVersion {
  material: string
  kcv: string
  created_time: string
  /** How this version came to be. */
  source: 'generated' | 'components' | 'tr31'
}

/** A named, versioned key as stored at `keys/<name>`. */
export interface StoredKey {
  name: string
  type: KeyType
  algorithm: KeyAlgorithm
  /** Bytes. */
  length: number
  versions: Record<string, KeyVersion>
  latest_version: number
  /** Versions below this may no longer decrypt/verify. */
  min_decryption_version: number
  /** 0: always the latest version for encrypt/generate. */
  min_encryption_version: number
  /** Export as a TR-31 block under a KBPK is allowed. Never in clear. */
  exportable: boolean
  deletion_allowed: boolean
  created_time: string
}

/** What `read` returns: no material. */
export interface KeyMetadata {
  name: string
  type: KeyType
  algorithm: KeyAlgorithm
  length: number
  usage: KeyOperation[]
  keys: Record<string, { kcv: string; creation_time: string; source: string }>
  latest_version: number
  min_decryption_version: number
  min_encryption_version: number
  exportable: boolean
  deletion_allowed: boolean
  supports_encryption: boolean
  supports_decryption: boolean
  supports_signing: boolean
  supports_derivation: boolean
}

/** Options for creating a key (generated material). */
export interface CreateKeyOptions {
  type: KeyType
  algorithm?: KeyAlgorithm
  length?: number
  exportable?: boolean
}

const PREFIX = 'keys/'

/** Resolve algorithm/length against the type's spec; 400 if not allowed. */
export function resolveShape(type: KeyType, algorithm?: KeyAlgorithm, length?: number): { algorithm: KeyAlgorithm; length: number } {
  const spec = KEY_SPECS[type]
  const alg = algorithm ?? spec.defaultAlgorithm
  const lengths = spec.algorithms[alg]
  if (!lengths) throw new InvalidRequestError('invalid_algorithm', `a ${type} key cannot use algorithm ${alg}`)
  const len = length ?? (alg === spec.defaultAlgorithm ? spec.defaultLength : (lengths[lengths.length - 1] ?? 16))
  if (!lengths.includes(len)) throw new InvalidRequestError('invalid_key_length', `a ${type} ${alg} key must be ${lengths.join(' or ')} bytes`)
  return { algorithm: alg, length: len }
}

/**
 * The key store. Keys are loaded into memory at unseal (the hot paths read no storage) and written
 * through: storage first, cache after, so a failed write changes nothing.
 */
export class KeyStore {
  private cache = new Map<string, StoredKey>()
  /**
   * Prepared crypto contexts (OpenSSL cipher contexts bound to one version's material), per stored key
   * object and version. Every write replaces the StoredKey object, so a rotated, reconfigured,
   * re-imported or deleted-and-recreated key never meets a context of its former self; seal drops them.
   */
  private contexts = new WeakMap<StoredKey, Map<string, unknown>>()

  constructor(private readonly barrier: Barrier) {}

  async load(): Promise<void> {
    this.cache.clear()
    for (const name of await this.barrier.list(PREFIX)) {
      const k = await this.barrier.getJson<StoredKey>(PREFIX + name)
      if (k) this.cache.set(name, k)
    }
  }

  clear(): void {
    this.cache.clear()
    this.contexts = new WeakMap()
  }

  /**
   * A context built once by `make` from the material of `used` (what `use()` returned) and kept while
   * this key object is current and the service unsealed. `kind` names the context type (a CVK has one
   * kind of context, but the name keeps types apart should a key type ever allow two).
   */
  context<T>(used: { key: StoredKey; version: number; material: string }, kind: string, make: (material: string) => T): T {
    let perKey = this.contexts.get(used.key)
    if (!perKey) {
      perKey = new Map()
      this.contexts.set(used.key, perKey)
    }
    const id = `${kind}:${used.version}`
    let ctx = perKey.get(id) as T | undefined
    if (ctx === undefined) {
      ctx = make(used.material)
      perKey.set(id, ctx)
    }
    return ctx
  }

  names(): string[] {
    return [...this.cache.keys()].sort()
  }

  get(name: string): StoredKey {
    const k = this.cache.get(name)
    if (!k) throw new NotFoundError('unknown_key', `no key named "${name}"`)
    return k
  }

  has(name: string): boolean {
    return this.cache.has(name)
  }

  /** The storage op that writes `key`, for atomic batches (ceremony completion). */
  static putOp(key: StoredKey): { op: 'put'; path: string; value: object } {
    return { op: 'put', path: PREFIX + key.name, value: key }
  }

  private async save(key: StoredKey): Promise<void> {
    await this.barrier.put(PREFIX + key.name, key)
    this.cache.set(key.name, key)
  }

  /** Install a key written as part of an external atomic batch. */
  adopt(key: StoredKey): void {
    this.cache.set(key.name, key)
  }

  /** Create with generated material. Idempotent when a key of the same type exists (Vault transit does the same). */
  async create(name: string, opts: CreateKeyOptions): Promise<{ created: boolean; key: StoredKey }> {
    const shape = resolveShape(opts.type, opts.algorithm, opts.length)
    const existing = this.cache.get(name)
    if (existing) {
      if (existing.type !== opts.type) throw new ConflictError('key_exists', `key "${name}" exists with another type`)
      return { created: false, key: existing }
    }
    const key = KeyStore.withVersion(undefined, { name, type: opts.type, ...shape, exportable: opts.exportable ?? false }, randomBytes(shape.length).toString('hex').toUpperCase(), 'generated')
    await this.save(key)
    return { created: true, key }
  }

  /**
   * A key with one more version holding `material` (new key when `base` is undefined). Pure: the
   * caller persists it.
   */
  static withVersion(
    base: StoredKey | undefined,
    shape: { name: string; type: KeyType; algorithm: KeyAlgorithm; length: number; exportable: boolean },
    material: string,
    source: KeyVersion['source'],
  ): StoredKey {
    if (base && (base.type !== shape.type || base.algorithm !== shape.algorithm || base.length !== shape.length)) {
      throw new ConflictError('key_shape_mismatch', `key "${shape.name}" exists with another type, algorithm or length`)
    }
    const now = new Date().toISOString()
    const v = (base?.latest_version ?? 0) + 1
    const version: KeyVersion = { material, kcv: keyKcv(shape.algorithm, material), created_time: now, source }
    return base
      ? { ...base, versions: { ...base.versions, [String(v)]: version }, latest_version: v }
      : {
          name: shape.name,
          type: shape.type,
          algorithm: shape.algorithm,
          length: shape.length,
          versions: { '1': version },
          latest_version: 1,
          min_decryption_version: 1,
          min_encryption_version: 0,
          exportable: shape.exportable,
          deletion_allowed: false,
          created_time: now,
        }
  }

  async rotate(name: string): Promise<StoredKey> {
    const k = this.get(name)
    const next = KeyStore.withVersion(k, k, randomBytes(k.length).toString('hex').toUpperCase(), 'generated')
    await this.save(next)
    return next
  }

  async configure(name: string, cfg: { min_decryption_version?: number; min_encryption_version?: number; exportable?: boolean; deletion_allowed?: boolean }): Promise<StoredKey> {
    const k = this.get(name)
    const next = { ...k }
    if (cfg.min_decryption_version !== undefined) {
      if (cfg.min_decryption_version < 1 || cfg.min_decryption_version > k.latest_version) {
        throw new InvalidRequestError('invalid_min_decryption_version', 'min_decryption_version must be 1..latest_version')
      }
      next.min_decryption_version = cfg.min_decryption_version
    }
    if (cfg.min_encryption_version !== undefined) {
      if (cfg.min_encryption_version !== 0 && (cfg.min_encryption_version < next.min_decryption_version || cfg.min_encryption_version > k.latest_version)) {
        throw new InvalidRequestError('invalid_min_encryption_version', 'min_encryption_version must be 0 or min_decryption_version..latest_version')
      }
      next.min_encryption_version = cfg.min_encryption_version
    }
    if (cfg.exportable !== undefined) {
      // Like Vault: once exportable, always exportable (copies may exist); never the other way silently.
      if (k.exportable && !cfg.exportable) throw new InvalidRequestError('exportable_is_permanent', 'exportable cannot be unset once set')
      next.exportable = cfg.exportable
    }
    if (cfg.deletion_allowed !== undefined) next.deletion_allowed = cfg.deletion_allowed
    await this.save(next)
    return next
  }

  async delete(name: string): Promise<void> {
    const k = this.get(name)
    if (!k.deletion_allowed) throw new InvalidRequestError('deletion_not_allowed', `key "${name}" has deletion_allowed=false`)
    await this.barrier.delete(PREFIX + name)
    this.cache.delete(name)
  }

  /**
   * Material for an operation, enforcing usage and versions. `version` given: that version, which
   * must be ≥ min_decryption_version (decrypt/verify side). Omitted: the encryption version.
   */
  use(name: string, op: KeyOperation, version?: number): { key: StoredKey; version: number; material: string } {
    const k = this.get(name)
    if (!KEY_SPECS[k.type].operations.includes(op)) throw new KeyUsageError(name, k.type, op)
    const v = version ?? (k.min_encryption_version || k.latest_version)
    if (version !== undefined && v < k.min_decryption_version) {
      throw new InvalidRequestError('key_version_disallowed', `key version ${v} is below min_decryption_version`)
    }
    const kv = k.versions[String(v)]
    if (!kv) throw new InvalidRequestError('unknown_key_version', `key "${name}" has no version ${v}`)
    return { key: k, version: v, material: kv.material }
  }

  metadata(name: string): KeyMetadata {
    const k = this.get(name)
    const keys: KeyMetadata['keys'] = {}
    for (const [v, kv] of Object.entries(k.versions)) keys[v] = { kcv: kv.kcv, creation_time: kv.created_time, source: kv.source }
    const ops = KEY_SPECS[k.type].operations
    return {
      name: k.name,
      type: k.type,
      algorithm: k.algorithm,
      length: k.length,
      usage: ops,
      keys,
      latest_version: k.latest_version,
      min_decryption_version: k.min_decryption_version,
      min_encryption_version: k.min_encryption_version,
      exportable: k.exportable,
      deletion_allowed: k.deletion_allowed,
      supports_encryption: ops.includes('encrypt'),
      supports_decryption: ops.includes('encrypt'),
      supports_signing: ops.includes('hmac') || ops.includes('mac'),
      supports_derivation: false,
    }
  }
}
