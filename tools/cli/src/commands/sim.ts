// `pnpm cardplane sim …`: the scheme simulator (tools/sim). Connects to a scheme link over TCP like Visa.
import { runSim } from '@cardplane/tool-sim'

/** Run the simulator command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  return runSim(argv)
}
