// `pnpm cardplane keys ...`: key ceremonies against the key service (cde/keyvault), over its
// Vault-compatible HTTP API with node-vault. Never prints key material: only KCVs, versions and names.
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline/promises'
import { kcv } from '@cardplane/payment-crypto'
import vault from 'node-vault'
import pg from 'pg'

/** Where the command sends requests and with which token. */
export interface KeysIo {
  out: (line: string) => void
  err: (line: string) => void
  env: Record<string, string | undefined>
  /** One line from the operator (for components typed at a prompt rather than on the command line). */
  prompt: (question: string) => Promise<string>
}

const USAGE = `usage: pnpm cardplane keys <command> [options]
  (key service address: --addr or VAULT_ADDR, default http://127.0.0.1:8200; token: --token or VAULT_TOKEN)

  status                                   seal status
  init [--shares 5] [--threshold 3]        initialise: prints the unseal shares and the root token, once
  unseal [<share>]                         submit one unseal share (repeat up to the threshold); no argument: prompt
  seal                                     seal (root)
  custodian-token <custodian> [--ttl 3600] mint a token bound to one named custodian (root)
  ceremony <key> --type T [--algorithm tdes|aes|hmac] [--length BYTES] [--components 2] [--exportable]
                                           open a component ceremony for a key (dual control)
  ceremony-status <key>                    who has entered a component (never what)
  component <key> --custodian NAME --kcv KCV [--component HEX|-]
                                           enter one clear component; '-' or no --component: read from a prompt
  kcv <key>                                KCV of the key's latest version
  kcv-of --algorithm tdes|aes [--component HEX|-]
                                           KCV of a component, computed locally (nothing is sent)
  create <key> --type T [--algorithm A] [--length BYTES] [--exportable]
  import <key> --kbpk KBPK --key-block BLOCK [--type T]
                                           import a TR-31 key block under a KBPK/ZMK
  export <key> --kbpk KBPK                 export as a TR-31 key block under a KBPK
  rotate <key>                             new key version
  list                                     key names
  audit-verify [--database-url URL] [--file audit.jsonl]
                                           walk the audit hash chain; exit 1 on a tampered or missing row
  revoke-self                              revoke the token in use (do this with the root token after setup)`

interface Parsed {
  positional: string[]
  flags: Record<string, string | true>
}

function parse(argv: string[]): Parsed {
  const positional: string[] = []
  const flags: Record<string, string | true> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? ''
    if (a.startsWith('--')) {
      const key = a.slice(2)
      const next = argv[i + 1]
      if (next !== undefined && (!next.startsWith('--') || next === '-')) {
        flags[key] = next
        i++
      } else flags[key] = true
    } else positional.push(a)
  }
  return { positional, flags }
}

class UsageError extends Error {}

function flag(p: Parsed, name: string): string | undefined {
  const v = p.flags[name]
  return typeof v === 'string' ? v : undefined
}

function need(p: Parsed, name: string): string {
  const v = flag(p, name)
  if (!v) throw new UsageError(`--${name} is required`)
  return v
}

function arg(p: Parsed, i: number, what: string): string {
  const v = p.positional[i]
  if (!v) throw new UsageError(`${what} is required`)
  return v
}

function intFlag(p: Parsed, name: string): number | undefined {
  const v = flag(p, name)
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a number`)
  return Number(v)
}

/** Run `keys` with explicit IO (tests) — `run` below uses the process's. */
export async function runKeys(argv: string[], io: KeysIo): Promise<number> {
  const p = parse(argv)
  const [cmd] = p.positional
  const rest: Parsed = { positional: p.positional.slice(1), flags: p.flags }
  if (!cmd || cmd === 'help' || p.flags.help) {
    io.out(USAGE)
    return cmd ? 0 : 2
  }
  const endpoint = flag(p, 'addr') ?? io.env.VAULT_ADDR ?? 'http://127.0.0.1:8200'
  const token = flag(p, 'token') ?? io.env.VAULT_TOKEN
  const client = vault({ endpoint, noCustomHTTPVerbs: true, ...(token ? { token } : {}) })
  const component = async (): Promise<string> => {
    const c = flag(rest, 'component')
    const v = c === undefined || c === '-' ? await io.prompt('component (hex): ') : c
    return v.trim().toUpperCase()
  }
  try {
    switch (cmd) {
      case 'status': {
        const s = await client.status()
        io.out(`initialized=${String(s.initialized)} sealed=${String(s.sealed)} threshold=${String(s.t)} shares=${String(s.n)} progress=${String(s.progress)}`)
        return 0
      }
      case 'init': {
        const r = (await client.init({ secret_shares: intFlag(rest, 'shares') ?? 5, secret_threshold: intFlag(rest, 'threshold') ?? 3 })) as { keys: string[]; root_token: string }
        r.keys.forEach((k, i) => io.out(`Unseal share ${i + 1}: ${k}`))
        io.out(`Root token: ${r.root_token}`)
        io.out('Give each share to a different custodian. The root token is for the key ceremony only: revoke it (keys revoke-self) when setup is done.')
        return 0
      }
      case 'unseal': {
        // No argument: read the share at a prompt, so it does not land in the shell history.
        const share = rest.positional[0] ?? (await io.prompt('unseal share: ')).trim()
        if (!share) throw new UsageError('an unseal share is required')
        const s = await client.unseal({ key: share })
        io.out(s.sealed ? `sealed: ${String(s.progress)}/${String(s.t)} shares entered` : 'unsealed')
        return 0
      }
      case 'seal':
        await client.write('sys/seal', {})
        io.out('sealed')
        return 0
      case 'custodian-token': {
        const custodian = arg(rest, 0, 'custodian')
        const r = await client.write('auth/token/create', { policies: ['root'], meta: { custodian }, display_name: `custodian-${custodian}`, ttl: intFlag(rest, 'ttl') ?? 3600 })
        io.out(`Token for custodian ${custodian}: ${String(r.auth.client_token)}`)
        return 0
      }
      case 'ceremony': {
        const key = arg(rest, 0, 'key name')
        const r = await client.write(`keys/${key}/ceremony`, {
          type: need(rest, 'type'),
          ...(flag(rest, 'algorithm') ? { algorithm: flag(rest, 'algorithm') } : {}),
          ...(intFlag(rest, 'length') ? { length: intFlag(rest, 'length') } : {}),
          components: intFlag(rest, 'components') ?? 2,
          exportable: rest.flags.exportable === true,
        })
        io.out(`ceremony open for ${key}: ${String(r.data.components_required)} components of ${String(r.data.type)} (${String(r.data.algorithm)})`)
        return 0
      }
      case 'ceremony-status': {
        const key = arg(rest, 0, 'key name')
        const r = await client.read(`keys/${key}/ceremony`)
        io.out(`${key}: ${String(r.data.components_entered)}/${String(r.data.components_required)} entered by ${(r.data.custodians as string[]).join(', ') || 'nobody yet'}`)
        return 0
      }
      case 'component': {
        const key = arg(rest, 0, 'key name')
        const r = await client.write(`keys/${key}/ceremony/component`, { custodian: need(rest, 'custodian'), kcv: need(rest, 'kcv'), component: await component() })
        io.out(`component accepted, KCV ${String(r.data.kcv)} (${String(r.data.components_entered)}/${String(r.data.components_required)})`)
        if (r.data.complete) io.out(`key ${key} version ${String(r.data.version)} created; combined KCV ${String(r.data.combined_kcv)}`)
        return 0
      }
      case 'kcv': {
        const key = arg(rest, 0, 'key name')
        const r = await client.read(`keys/${key}/kcv`)
        io.out(`${key} v${String(r.data.latest_version)} KCV ${String(r.data.kcv)}`)
        return 0
      }
      case 'kcv-of': {
        const algorithm = need(rest, 'algorithm')
        if (algorithm !== 'tdes' && algorithm !== 'aes') throw new UsageError('--algorithm must be tdes or aes')
        io.out(`KCV ${kcv(await component(), { algorithm })}`)
        return 0
      }
      case 'create': {
        const key = arg(rest, 0, 'key name')
        const r = await client.write(`keys/${key}`, {
          type: need(rest, 'type'),
          ...(flag(rest, 'algorithm') ? { algorithm: flag(rest, 'algorithm') } : {}),
          ...(intFlag(rest, 'length') ? { length: intFlag(rest, 'length') } : {}),
          exportable: rest.flags.exportable === true,
        })
        io.out(`${key}: ${String(r.data.type)} v${String(r.data.latest_version)} KCV ${String(r.data.keys[String(r.data.latest_version)].kcv)}${r.data.created ? '' : ' (already existed)'}`)
        return 0
      }
      case 'import': {
        const key = arg(rest, 0, 'key name')
        const r = await client.write(`keys/${key}/import`, { kbpk: need(rest, 'kbpk'), key_block: need(rest, 'key-block'), ...(flag(rest, 'type') ? { type: flag(rest, 'type') } : {}) })
        io.out(`${key}: imported ${String(r.data.type)} v${String(r.data.imported_version)} KCV ${String(r.data.kcv)}`)
        return 0
      }
      case 'export': {
        const key = arg(rest, 0, 'key name')
        const r = await client.write(`keys/${key}/export`, { kbpk: need(rest, 'kbpk') })
        io.out(`${key} v${String(r.data.version)} KCV ${String(r.data.kcv)} under ${String(r.data.kbpk)}:`)
        io.out(String(r.data.key_block))
        return 0
      }
      case 'rotate': {
        const key = arg(rest, 0, 'key name')
        const r = await client.write(`keys/${key}/rotate`, {})
        io.out(`${key}: now v${String(r.data.latest_version)} KCV ${String(r.data.keys[String(r.data.latest_version)].kcv)}`)
        return 0
      }
      case 'list': {
        const r = await client.list('keys')
        for (const k of r.data.keys as string[]) io.out(k)
        return 0
      }
      case 'revoke-self':
        await client.tokenRevokeSelf()
        io.out('token revoked')
        return 0
      case 'audit-verify':
        return await auditVerify(rest, io)
      default:
        io.err(`unknown keys command: ${cmd}\n\n${USAGE}`)
        return 2
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${USAGE}`)
      return 2
    }
    const body = (err as { response?: { statusCode?: number; body?: { errors?: string[] } } }).response
    if (body) {
      io.err(`key service answered ${String(body.statusCode)}: ${(body.body?.errors ?? []).join('; ')}`)
      return 1
    }
    const code = (err as { code?: unknown }).code
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') {
      io.err(`cannot reach the key service at ${endpoint} (${String(code)})`)
      return 1
    }
    io.err(err instanceof Error ? err.message : String(err))
    return 1
  }
}

async function auditVerify(p: Parsed, io: KeysIo): Promise<number> {
  // Loaded lazily: only this subcommand needs the key service's verifier and a database connection.
  const { verifyAuditLog, verifyAuditLines } = await import('@cardplane/keyvault')
  const url = flag(p, 'database-url') ?? io.env.KEYVAULT_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cardplane_keyvault'
  let head: { seq: string; hash: string } | undefined
  let fileOk = true
  const file = flag(p, 'file')
  if (file) {
    // The JSON-lines copy is checked on its own first, then its head is compared with the table's.
    const f = verifyAuditLines(await readFile(file, 'utf8'))
    io.out(`audit file: ${f.rows} lines, last seq ${f.lastSeq}${f.ok ? ', chain intact' : ''}`)
    for (const pr of f.problems.slice(0, 50)) io.err(`  file seq ${pr.seq}: ${pr.problem}`)
    fileOk = f.ok
    if (f.rows > 0) head = { seq: f.lastSeq, hash: f.lastHash }
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  try {
    const v = await verifyAuditLog(pool, head)
    io.out(`audit log: ${v.rows} rows, last seq ${v.lastSeq}, head ${v.lastHash.slice(0, 16)}…`)
    for (const pr of v.problems.slice(0, 50)) io.err(`  seq ${pr.seq}: ${pr.problem}`)
    const ok = v.ok && fileOk
    io.out(ok ? 'OK: chain intact' : `TAMPERED: ${v.problems.length + (fileOk ? 0 : 1)} problem(s)`)
    return ok ? 0 : 1
  } finally {
    await pool.end()
  }
}

/** Entry point called by the CLI dispatcher. */
export async function run(argv: string[]): Promise<number> {
  const rl = process.stdin.isTTY ? createInterface({ input: process.stdin, output: process.stderr }) : undefined
  try {
    return await runKeys(argv, {
      out: (l) => console.log(l),
      err: (l) => console.error(l),
      env: process.env,
      prompt: async (q) => {
        if (rl) return rl.question(q)
        // Non-interactive: read one line from stdin (e.g. piped from a secure source).
        const chunks: Buffer[] = []
        for await (const c of process.stdin) chunks.push(c as Buffer)
        return Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? ''
      },
    })
  } finally {
    rl?.close()
  }
}
