// Worker-thread entry for the benchmark's load generators: enable tsx inside the worker, then run
// the TypeScript load client (worker threads do not inherit the parent's --import hooks on Node 20).
import { register } from 'tsx/esm/api'

register()
await import('./load-client.ts')
