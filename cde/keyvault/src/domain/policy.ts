import { InvalidRequestError } from './errors.js'

/**
 * ACL policies in Vault's JSON policy syntax:
 * `{"path": {"transit/encrypt/card-data": {"capabilities": ["update"]}, "payments/cvv/*": {...}}}`.
 * Path patterns: exact, a trailing `*` (prefix), and `+` for exactly one segment. Evaluation: a matching
 * `deny` wins; otherwise the capabilities of every matching rule are united. (Vault picks the single
 * most specific rule; union-with-deny is simpler to review and never grants less than it says.)
 * HCL is not accepted: policies are data written by the ceremony tooling, not by hand.
 */
export const CAPABILITIES = ['create', 'read', 'update', 'delete', 'list', 'sudo', 'deny'] as const
export type Capability = (typeof CAPABILITIES)[number]

interface Rule {
  pattern: string
  re: RegExp
  capabilities: Set<Capability>
}

/** A parsed policy. */
export class Policy {
  constructor(readonly name: string, readonly text: string, private readonly rules: Rule[]) {}

  /** Capabilities this policy grants on `path` (with `deny` meaning none). */
  capabilitiesFor(path: string): Set<Capability> {
    const caps = new Set<Capability>()
    for (const r of this.rules) {
      if (!r.re.test(path)) continue
      if (r.capabilities.has('deny')) return new Set(['deny'])
      for (const c of r.capabilities) caps.add(c)
    }
    return caps
  }

  static parse(name: string, text: string): Policy {
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch {
      throw new InvalidRequestError('invalid_policy', 'policy must be a JSON document {"path": {...}}')
    }
    const paths = (doc as { path?: unknown }).path
    if (typeof paths !== 'object' || paths === null || Array.isArray(paths)) {
      throw new InvalidRequestError('invalid_policy', 'policy must have a "path" object')
    }
    const rules: Rule[] = []
    for (const [pattern, body] of Object.entries(paths as Record<string, unknown>)) {
      const capsRaw = (body as { capabilities?: unknown } | null)?.capabilities
      if (!Array.isArray(capsRaw) || capsRaw.some((c) => !(CAPABILITIES as readonly unknown[]).includes(c))) {
        throw new InvalidRequestError('invalid_policy', `rule "${pattern}": capabilities must be a list of ${CAPABILITIES.join(', ')}`)
      }
      if (!/^[A-Za-z0-9_./+*-]*$/.test(pattern) || pattern.slice(0, -1).includes('*')) {
        throw new InvalidRequestError('invalid_policy', `rule "${pattern}": only a trailing * and + segments are allowed`)
      }
      rules.push({ pattern, re: compile(pattern), capabilities: new Set(capsRaw as Capability[]) })
    }
    return new Policy(name, text, rules)
  }
}

function compile(pattern: string): RegExp {
  const prefix = pattern.endsWith('*')
  const body = (prefix ? pattern.slice(0, -1) : pattern)
    .split('/')
    .map((seg) => (seg === '+' ? '[^/]+' : seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return new RegExp(`^${body}${prefix ? '.*' : ''}$`)
}

/** Always present: what every token may do to itself. */
export const DEFAULT_POLICY = Policy.parse(
  'default',
  JSON.stringify({
    path: {
      'auth/token/lookup-self': { capabilities: ['read'] },
      'auth/token/revoke-self': { capabilities: ['update'] },
    },
  }),
)
