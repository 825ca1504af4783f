import type { Barrier } from './barrier.js'
import { ConflictError, InvalidRequestError, NotFoundError } from './errors.js'
import { KeyStore, resolveShape, type StoredKey } from './key-store.js'
import { keyKcv, type KeyAlgorithm, type KeyType } from './key-types.js'

/**
 * Key import under dual control (split knowledge). A ceremony is opened for a key name, type and a
 * number of components; each custodian enters one component in clear together with its KCV. The
 * component is checked against its KCV before it is kept (under the barrier). A custodian is the pair
 * (token accessor, custodian name): neither may enter a second component, and a token created for a
 * named custodian (`meta.custodian`) may only enter as that custodian. When the last component is in,
 * the components are XORed into the key, which is written (new key or next version) in the same
 * atomic batch that deletes the ceremony, and the combined KCV is returned for the custodians to
 * compare with their forms.
 */
export interface Ceremony {
  name: string
  type: KeyType
  algorithm: KeyAlgorithm
  length: number
  components_required: number
  exportable: boolean
  started_by: string
  started_time: string
  components: { custodian: string; accessor: string; component: string; kcv: string; entered_time: string }[]
}

/** Public view of a ceremony: who entered, never what. */
export interface CeremonyStatus {
  name: string
  type: KeyType
  algorithm: KeyAlgorithm
  components_required: number
  components_entered: number
  custodians: string[]
  kcvs: string[]
  complete: boolean
}

/** Result of entering a component. */
export interface ComponentResult extends CeremonyStatus {
  kcv: string
  combined_kcv?: string
  version?: number
}

const PREFIX = 'ceremonies/'

export class CeremonyService {
  constructor(private readonly barrier: Barrier, private readonly keys: KeyStore) {}

  private async load(name: string): Promise<Ceremony> {
    const c = await this.barrier.getJson<Ceremony>(PREFIX + name)
    if (!c) throw new NotFoundError('unknown_ceremony', `no ceremony open for key "${name}"`)
    return c
  }

  async start(name: string, opts: { type: KeyType; algorithm?: KeyAlgorithm; length?: number; components: number; exportable: boolean; startedBy: string }): Promise<CeremonyStatus> {
    if (!Number.isInteger(opts.components) || opts.components < 2 || opts.components > 9) {
      throw new InvalidRequestError('invalid_field', 'components must be 2..9 (dual control needs at least two custodians)')
    }
    const shape = resolveShape(opts.type, opts.algorithm, opts.length)
    if (this.keys.has(name)) {
      const k = this.keys.get(name)
      if (k.type !== opts.type || k.algorithm !== shape.algorithm || k.length !== shape.length) {
        throw new ConflictError('key_shape_mismatch', `key "${name}" exists with another type, algorithm or length`)
      }
    }
    if (await this.barrier.get(PREFIX + name)) throw new ConflictError('ceremony_open', `a ceremony is already open for key "${name}"`)
    const c: Ceremony = {
      name,
      type: opts.type,
      ...shape,
      components_required: opts.components,
      exportable: opts.exportable,
      started_by: opts.startedBy,
      started_time: new Date().toISOString(),
      components: [],
    }
    await this.barrier.put(PREFIX + name, c)
    return status(c)
  }

  async status(name: string): Promise<CeremonyStatus> {
    return status(await this.load(name))
  }

  async cancel(name: string): Promise<void> {
    await this.load(name)
    await this.barrier.delete(PREFIX + name)
  }

  async enter(name: string, input: { custodian: string; accessor: string; tokenCustodian?: string; component: string; kcv: string }): Promise<{ result: ComponentResult; key?: StoredKey }> {
    const c = await this.load(name)
    if (input.tokenCustodian !== undefined && input.tokenCustodian !== input.custodian) {
      throw new InvalidRequestError('custodian_mismatch', 'this token belongs to another custodian')
    }
    if (c.components.some((x) => x.custodian === input.custodian || x.accessor === input.accessor)) {
      throw new ConflictError('duplicate_custodian', 'this custodian (or token) has already entered a component')
    }
    if (input.component.length !== c.length * 2) throw new InvalidRequestError('invalid_length', `component must be ${c.length} bytes`)
    const kcv = keyKcv(c.algorithm, input.component)
    if (kcv !== input.kcv.toUpperCase()) throw new InvalidRequestError('kcv_mismatch', 'the component does not match its KCV')
    const components = [...c.components, { custodian: input.custodian, accessor: input.accessor, component: input.component, kcv, entered_time: new Date().toISOString() }]
    const next: Ceremony = { ...c, components }
    if (components.length < c.components_required) {
      await this.barrier.put(PREFIX + name, next)
      return { result: { ...status(next), kcv } }
    }
    const combined = Buffer.alloc(c.length)
    for (const comp of components) {
      const b = Buffer.from(comp.component, 'hex')
      for (let i = 0; i < combined.length; i++) combined[i] = (combined[i] ?? 0) ^ (b[i] ?? 0)
    }
    const material = combined.toString('hex').toUpperCase()
    combined.fill(0)
    const base = this.keys.has(name) ? this.keys.get(name) : undefined
    const key = KeyStore.withVersion(base, { name, type: c.type, algorithm: c.algorithm, length: c.length, exportable: c.exportable }, material, 'components')
    await this.barrier.apply([KeyStore.putOp(key), { op: 'delete', path: PREFIX + name }])
    this.keys.adopt(key)
    const version = key.latest_version
    return {
      result: { ...status(next), complete: true, kcv, combined_kcv: key.versions[String(version)]?.kcv ?? '', version },
      key,
    }
  }
}

function status(c: Ceremony): CeremonyStatus {
  return {
    name: c.name,
    type: c.type,
    algorithm: c.algorithm,
    components_required: c.components_required,
    components_entered: c.components.length,
    custodians: c.components.map((x) => x.custodian),
    kcvs: c.components.map((x) => x.kcv),
    complete: false,
  }
}
