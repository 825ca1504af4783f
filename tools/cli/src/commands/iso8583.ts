/**
 * `pnpm cardplane iso8583 …`: thin adapter; the command lives in @cardplane/iso8583/cli.
 */
import { runIso8583Cli } from '@cardplane/iso8583/cli'

/** Entry point called by the dispatcher with the arguments after `iso8583`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  return runIso8583Cli(argv)
}
