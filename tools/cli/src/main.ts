// `pnpm cardplane <command> ...`: one entry point for operators. Each command lives in
// src/commands/<command>.ts and exports `run(argv): Promise<number>` (the exit code); commands are
// loaded on demand so a key ceremony does not load the ISO 8583 codec and vice versa.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Commands and one line about each, shown by `pnpm cardplane help`. */
export const COMMANDS: Record<string, string> = {
  iso8583: 'decode, encode and describe ISO 8583 messages (see packages/iso8583/README.md)',
  keys: 'key ceremonies against the key service: init, unseal, components, KCV, import, rotate, audit-verify',
  cards: 'issue cards and create reveal sessions through services/cards',
  cde: 'operator actions in the CDE through proxy-internal: PAN index key replacement',
  sim: 'scheme simulator: sign on, echo and send authorisations over TCP like Visa would',
}

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, what]) => `  ${name.padEnd(10)} ${what}`)
  return ['usage: pnpm cardplane <command> [options]', '', 'commands:', ...rows].join('\n')
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(usage())
    return command ? 0 : 2
  }
  if (!(command in COMMANDS)) {
    console.error(`unknown command: ${command}\n\n${usage()}`)
    return 2
  }
  const file = new URL(`./commands/${command}.ts`, import.meta.url)
  if (!existsSync(fileURLToPath(file))) {
    console.error(`command ${command} is not available in this build`)
    return 2
  }
  const mod = (await import(file.href)) as { run: (argv: string[]) => Promise<number> }
  return mod.run(rest)
}

// pnpm passes a literal `--` through when users write `pnpm cardplane -- iso8583 ...`.
const args = process.argv.slice(2)
main(args[0] === '--' ? args.slice(1) : args).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err))
    process.exitCode = 1
  },
)
