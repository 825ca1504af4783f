import t from 'tap'
import { syncEnvTables } from '../src/docs/env-tables.js'

t.test('service README environment tables match their config schemas', async (t) => {
  const results = await syncEnvTables({ check: true })
  const generated = results.filter((r) => r.status !== 'skipped')
  t.ok(generated.length >= 7, 'the skeleton services have generated tables')
  for (const r of generated) t.equal(r.status, 'current', `${r.service}: run pnpm --filter @cardplane/tool-dev docs:env`)
})
