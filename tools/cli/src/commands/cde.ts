/**
 * `pnpm cardplane cde index-key-replace [--json]`
 *
 * Operator actions inside the CDE, as the `console` workload through proxy-internal (the only door from the
 * main cluster; its allowlist names each action) to the processor, which asks the card vault. Prints key
 * ids only, never key material.
 *
 * index-key-replace: start the PAN index key's replacement (its cryptoperiod). The card vault makes a new
 * index key active at once; the previous one retires: lookups still find its cards, and the card vault's
 * rotation pass (every CARD_VAULT_REWRAP_INTERVAL_MS) re-indexes them under the new key, then marks the old
 * one retired. While a previous replacement is still retiring a new one is refused (exit 1,
 * `index_key_retiring`): one at a time.
 */
import { consoleCall, failed } from '../console-call.js'

function usage(): string {
  return ['usage:', '  pnpm cardplane cde index-key-replace [--json]   start replacing the card vault\'s PAN index key'].join('\n')
}

async function indexKeyReplace(argv: string[]): Promise<number> {
  const r = await consoleCall<{ keyId: number; retiringKeyId: number }>('proxy-internal', 'POST', '/v1/cde/admin/index-key/replace')
  if (r.status !== 200) {
    const code = failed('proxy-internal', r.status, r.body)
    if ((r.body as { error?: { code?: string } } | undefined)?.error?.code === 'index_key_retiring') {
      console.error('a previous replacement is still retiring: the card vault\'s rotation pass re-indexes its cards and retires it; try again after that')
    }
    return code
  }
  if (argv.includes('--json')) console.log(JSON.stringify(r.body, null, 2))
  else {
    console.log(`PAN index key replacement started: key ${r.body.keyId} is active, key ${r.body.retiringKeyId} is retiring`)
    console.error('the card vault\'s rotation pass re-indexes the retiring key\'s cards and then retires it; lookups find them meanwhile')
  }
  return 0
}

/** Entry point used by tools/cli/src/main.ts. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  switch (sub) {
    case 'index-key-replace':
      return indexKeyReplace(rest)
    default:
      console.error(usage())
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2
  }
}
