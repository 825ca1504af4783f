import type { Barrier } from './barrier.js'
import { InvalidRequestError, NotFoundError } from './errors.js'
import { DEFAULT_POLICY, Policy, type Capability } from './policy.js'

const PREFIX = 'sys/policy/'

/** Named ACL policies under the barrier, cached while unsealed. `root` and `default` are built in. */
export class PolicyStore {
  private cache = new Map<string, Policy>()

  constructor(private readonly barrier: Barrier) {}

  async load(): Promise<void> {
    this.cache.clear()
    for (const name of await this.barrier.list(PREFIX)) {
      const text = await this.barrier.get(PREFIX + name)
      if (text) this.cache.set(name, Policy.parse(name, text.toString('utf8')))
    }
  }

  clear(): void {
    this.cache.clear()
  }

  names(): string[] {
    return ['default', ...[...this.cache.keys()].sort(), 'root']
  }

  get(name: string): Policy {
    if (name === 'default') return DEFAULT_POLICY
    const p = this.cache.get(name)
    if (!p) throw new NotFoundError('unknown_policy', `no policy named "${name}"`)
    return p
  }

  async put(name: string, text: string): Promise<void> {
    if (name === 'root' || name === 'default') throw new InvalidRequestError('reserved_policy', `policy "${name}" cannot be modified`)
    const p = Policy.parse(name, text)
    await this.barrier.put(PREFIX + name, Buffer.from(text, 'utf8'))
    this.cache.set(name, p)
  }

  async delete(name: string): Promise<void> {
    if (name === 'root' || name === 'default') throw new InvalidRequestError('reserved_policy', `policy "${name}" cannot be deleted`)
    await this.barrier.delete(PREFIX + name)
    this.cache.delete(name)
  }

  /** Union of the capabilities the named policies grant on `path`; `root` grants everything. */
  allows(policies: readonly string[], path: string, needed: readonly Capability[]): boolean {
    if (policies.includes('root')) return true
    const caps = new Set<Capability>()
    for (const name of [...policies, 'default']) {
      const p = name === 'default' ? DEFAULT_POLICY : this.cache.get(name)
      if (!p) continue
      const c = p.capabilitiesFor(path)
      if (c.has('deny')) return false
      for (const x of c) caps.add(x)
    }
    return needed.some((n) => caps.has(n))
  }
}
