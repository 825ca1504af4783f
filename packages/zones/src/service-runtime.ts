/**
 * How every service process is started, wherever it runs: `pnpm start` (tools/dev), the test platform the
 * end-to-end tests and benchmarks use (tools/leak-scan), and the Kubernetes manifests (k8s.ts). One list, so
 * what is measured is what is deployed.
 */

/**
 * Node.js (V8) flags every service runs with.
 *
 * `--no-memory-reducer`: V8's memory reducer shrinks the heap of a process it believes idle, and its
 * watchdog starts a memory-reducing full collection 100 s after the last one whether the process is idle
 * or not. Under load that is a full mark-compact at a moment nobody chose: in `pnpm bench:auth:soak` at
 * 500/s, five services ran one at the same instant about 105 s after start (incremental steps up to 15 ms,
 * a 51 ms event-loop stall in the card vault), and the 30 s window holding it had the run's worst p99 in
 * five of six soaks. A service sized for its traffic gains nothing from handing heap back between bursts;
 * ordinary collections still run (docs/operations/benchmarks.md, session 12).
 *
 * V8 takes these on the command line only (NODE_OPTIONS refuses them).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--no-memory-reducer']

/** The arguments after `node` that run a service's TypeScript entry point, with `extra` flags before it. */
export function serviceNodeArgs(entry: string, extra: readonly string[] = []): string[] {
  return [...SERVICE_NODE_FLAGS, ...extra, '--import', 'tsx', entry]
}
