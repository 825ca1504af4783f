import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { KeyvaultError, SealedError } from './errors.js'
import type { PhysicalStorage, StorageOp } from './storage.js'

/**
 * The encryption barrier. Layout (after Vault's): the unseal key (split with Shamir, never stored)
 * wraps the root key; the root key wraps the keyring; each keyring term is an AES-256 key and every
 * stored value is encrypted with the active term. Values carry their term so that after a rotation
 * (`sys/rotate`) older values stay readable while new writes use the new term. The storage path is the
 * GCM additional data, so a ciphertext moved to another path does not decrypt.
 */

const VERSION = 1
const NONCE_LEN = 12
const TAG_LEN = 16

/** Plain paths: the only values not encrypted by the keyring. */
export const SEAL_CONFIG_PATH = 'core/seal-config'
export const ROOT_KEY_PATH = 'core/root-key'
export const KEYRING_PATH = 'core/keyring'

/** AES-256-GCM: version ‖ term (u32 BE) ‖ nonce ‖ ciphertext ‖ tag; `aad` binds it to its purpose. */
export function seal(key: Buffer, term: number, plaintext: Buffer, aad: string): Buffer {
  const nonce = randomBytes(NONCE_LEN)
  const c = createCipheriv('aes-256-gcm', key, nonce)
  c.setAAD(Buffer.from(aad, 'utf8'))
  const ct = Buffer.concat([c.update(plaintext), c.final()])
  const head = Buffer.alloc(5)
  head.writeUInt8(VERSION, 0)
  head.writeUInt32BE(term, 1)
  return Buffer.concat([head, nonce, ct, c.getAuthTag()])
}

/** Term of a sealed value, to pick the key that opens it. */
export function termOf(blob: Buffer): number {
  if (blob.length < 5 + NONCE_LEN + TAG_LEN || blob.readUInt8(0) !== VERSION) {
    throw new KeyvaultError('barrier_corrupt', 500, 'stored value is corrupt')
  }
  return blob.readUInt32BE(1)
}

/** Inverse of `seal`; throws `barrier_auth_failed` when the key, path or bytes do not match. */
export function open(key: Buffer, blob: Buffer, aad: string): Buffer {
  termOf(blob)
  const nonce = blob.subarray(5, 5 + NONCE_LEN)
  const tag = blob.subarray(blob.length - TAG_LEN)
  const ct = blob.subarray(5 + NONCE_LEN, blob.length - TAG_LEN)
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce)
    d.setAAD(Buffer.from(aad, 'utf8'))
    d.setAuthTag(tag)
    return Buffer.concat([d.update(ct), d.final()])
  } catch (err) {
    throw new KeyvaultError('barrier_auth_failed', 500, 'stored value failed authentication', { cause: err })
  }
}

/** One keyring term. */
export interface KeyringTerm {
  term: number
  key: Buffer
  installedAt: string
}

/** The keyring, as held in memory while unsealed. */
export class Keyring {
  constructor(readonly terms: KeyringTerm[]) {}

  get active(): KeyringTerm {
    const t = this.terms[this.terms.length - 1]
    if (!t) throw new KeyvaultError('barrier_corrupt', 500, 'keyring is empty')
    return t
  }

  key(term: number): Buffer {
    const t = this.terms.find((x) => x.term === term)
    if (!t) throw new KeyvaultError('barrier_unknown_term', 500, 'stored value uses an unknown keyring term')
    return t.key
  }

  /** A keyring with one more term, which becomes active. */
  rotated(): Keyring {
    return new Keyring([...this.terms, { term: this.active.term + 1, key: randomBytes(32), installedAt: new Date().toISOString() }])
  }

  serialize(): Buffer {
    return Buffer.from(JSON.stringify({ terms: this.terms.map((t) => ({ term: t.term, key: t.key.toString('base64'), installed_at: t.installedAt })) }))
  }

  static parse(buf: Buffer): Keyring {
    const doc = JSON.parse(buf.toString('utf8')) as { terms: { term: number; key: string; installed_at: string }[] }
    return new Keyring(doc.terms.map((t) => ({ term: t.term, key: Buffer.from(t.key, 'base64'), installedAt: t.installed_at })))
  }

  /** Overwrite key bytes in memory (best effort: the GC may hold copies). */
  wipe(): void {
    for (const t of this.terms) t.key.fill(0)
  }

  static fresh(): Keyring {
    return new Keyring([{ term: 1, key: randomBytes(32), installedAt: new Date().toISOString() }])
  }
}

/**
 * Encrypted view of physical storage. While sealed, every call throws SealedError (503). The keyring
 * is installed by the seal manager after a successful unseal and dropped on seal.
 */
export class Barrier {
  private keyring: Keyring | undefined
  private rootKey: Buffer | undefined

  constructor(private readonly physical: PhysicalStorage) {}

  get sealed(): boolean {
    return this.keyring === undefined
  }

  /** Called by the seal manager only. */
  install(rootKey: Buffer, keyring: Keyring): void {
    this.rootKey = rootKey
    this.keyring = keyring
  }

  /** Called by the seal manager only. */
  drop(): void {
    this.keyring?.wipe()
    this.rootKey?.fill(0)
    this.keyring = undefined
    this.rootKey = undefined
  }

  private ring(): Keyring {
    if (!this.keyring) throw new SealedError()
    return this.keyring
  }

  async get(path: string): Promise<Buffer | undefined> {
    const ring = this.ring()
    const blob = await this.physical.get(path)
    if (!blob) return undefined
    return open(ring.key(termOf(blob)), blob, path)
  }

  async getJson<T>(path: string): Promise<T | undefined> {
    const buf = await this.get(path)
    return buf ? (JSON.parse(buf.toString('utf8')) as T) : undefined
  }

  async list(prefix: string): Promise<string[]> {
    this.ring()
    return this.physical.list(prefix)
  }

  /** Atomic batch of encrypted puts and deletes. */
  async apply(ops: ({ op: 'put'; path: string; value: Buffer | object } | { op: 'delete'; path: string })[]): Promise<void> {
    const ring = this.ring()
    const active = ring.active
    const physical: StorageOp[] = ops.map((o) => {
      if (o.op === 'delete') return o
      const plain = Buffer.isBuffer(o.value) ? o.value : Buffer.from(JSON.stringify(o.value))
      return { op: 'put', path: o.path, value: seal(active.key, active.term, plain, o.path) }
    })
    await this.physical.apply(physical)
  }

  async put(path: string, value: Buffer | object): Promise<void> {
    await this.apply([{ op: 'put', path, value }])
  }

  async delete(path: string): Promise<void> {
    await this.apply([{ op: 'delete', path }])
  }

  /** Status for `sys/key-status`. */
  keyStatus(): { term: number; install_time: string } {
    const a = this.ring().active
    return { term: a.term, install_time: a.installedAt }
  }

  /** `sys/rotate`: add a keyring term and persist the keyring under the root key. */
  async rotate(): Promise<{ term: number }> {
    const ring = this.ring()
    const root = this.rootKey
    if (!root) throw new SealedError()
    const next = ring.rotated()
    await this.physical.apply([{ op: 'put', path: KEYRING_PATH, value: seal(root, 0, next.serialize(), KEYRING_PATH) }])
    this.keyring = next
    return { term: next.active.term }
  }
}
