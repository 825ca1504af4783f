/**
 * `pnpm cardplane cards issue --program <id> --count N [--customer <id>] [--name <NAME>] [--json]`
 * `pnpm cardplane cards reveal <card-id> [--json]`
 * `pnpm cardplane cards pin-set <card-id> [--json]`
 * `pnpm cardplane cards pin-reveal <card-id> [--json]`
 * `pnpm cardplane cards get <card-id>`
 *
 * Operator commands on the cards service's API, acting as the `console` workload (see console-call.ts
 * for where the identity and the URL come from). Nothing printed here is card data: card IDs,
 * last four, expiry, and the one-time reveal / PIN-set / PIN-reveal URLs (opened by the cardholder's
 * browser at proxy-public; the operator never sees the card details or the PIN).
 */
import { consoleCall, failed as failedAs } from '../console-call.js'

interface Issued {
  cardId: string
  lastFour: string
  bin: string
  expiryMonth: number
  expiryYear: number
  accountId: string
}

function usage(): string {
  return [
    'usage:',
    '  pnpm cardplane cards issue --program <id> [--count N] [--customer <id>] [--name <NAME>] [--json]',
    '  pnpm cardplane cards reveal <card-id> [--json]',
    '  pnpm cardplane cards pin-set <card-id> [--json]',
    '  pnpm cardplane cards pin-reveal <card-id> [--json]',
    '  pnpm cardplane cards get <card-id>',
  ].join('\n')
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  if (i === -1) return undefined
  const v = argv[i + 1]
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`)
  return v
}

/** Calls the cards service as `console`. */
function cardsCall<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return consoleCall<T>('cards', method, path, body)
}

const failed = (status: number, body: unknown): number => failedAs('cards', status, body)

async function issue(argv: string[]): Promise<number> {
  const program = option(argv, '--program')
  if (!program) {
    console.error(usage())
    return 2
  }
  const count = Number(option(argv, '--count') ?? '1')
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    console.error('--count must be an integer 1-10000')
    return 2
  }
  const customerId = option(argv, '--customer') ?? 'cli_customer'
  const name = option(argv, '--name')
  const out: Issued[] = []
  // The API issues at most 100 per request.
  for (let left = count; left > 0; left -= 100) {
    const r = await cardsCall<{ cards: Issued[] }>('POST', '/v1/cards', {
      programId: program,
      customerId,
      count: Math.min(100, left),
      ...(name ? { cardholderName: name } : {}),
    })
    if (r.status !== 201) return failed(r.status, r.body)
    out.push(...r.body.cards)
  }
  if (argv.includes('--json')) console.log(JSON.stringify({ cards: out }, null, 2))
  else {
    console.log('card id                          last4  expiry  account')
    for (const c of out) {
      console.log(`${c.cardId}  ${c.lastFour}   ${String(c.expiryMonth).padStart(2, '0')}/${String(c.expiryYear % 100).padStart(2, '0')}   ${c.accountId}`)
    }
  }
  return 0
}

/** The kinds of one-time session and the cards route that makes each. */
const SESSIONS = {
  reveal: { path: 'reveal-sessions', what: 'card details' },
  'pin-set': { path: 'pin-sessions', what: 'PIN set' },
  'pin-reveal': { path: 'pin-reveal-sessions', what: 'PIN reveal' },
} as const

/** Print the one-time URL of a card-details, PIN-set or PIN-reveal session. */
async function oneTimeUrl(kind: keyof typeof SESSIONS, argv: string[]): Promise<number> {
  const cardId = argv.find((a) => !a.startsWith('--'))
  if (!cardId) {
    console.error(usage())
    return 2
  }
  const s = SESSIONS[kind]
  const r = await cardsCall<{ url: string; jsonUrl: string; expiresAt: string }>('POST', `/v1/cards/${encodeURIComponent(cardId)}/${s.path}`)
  if (r.status !== 201) return failed(r.status, r.body)
  if (argv.includes('--json')) console.log(JSON.stringify(r.body, null, 2))
  else {
    console.log(r.body.url)
    console.error(`one-time ${s.what} link, valid until ${r.body.expiresAt} (JSON variant: ${r.body.jsonUrl})`)
  }
  return 0
}

async function get(argv: string[]): Promise<number> {
  const cardId = argv.find((a) => !a.startsWith('--'))
  if (!cardId) {
    console.error(usage())
    return 2
  }
  const r = await cardsCall<unknown>('GET', `/v1/cards/${encodeURIComponent(cardId)}`)
  if (r.status !== 200) return failed(r.status, r.body)
  console.log(JSON.stringify(r.body, null, 2))
  return 0
}

/** Entry point used by tools/cli/src/main.ts. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'issue':
      return issue(rest)
    case 'reveal':
    case 'pin-set':
    case 'pin-reveal':
      return oneTimeUrl(sub, rest)
    case 'get':
      return get(rest)
    default:
      console.error(usage())
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2
  }
}
