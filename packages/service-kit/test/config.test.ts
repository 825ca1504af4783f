import t from 'tap'
import { Type } from '@sinclair/typebox'
import { ConfigError, baseConfigSchema, describeConfig, loadConfig, serviceUrl } from '../src/index.js'
import { zoneMap } from './helpers.js'

const schema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    DEADLINE_MS: Type.Integer({ minimum: 1, default: 1500, description: 'Authorisation deadline.' }),
    STAND_IN: Type.Boolean({ default: false, description: 'Stand-in switch.' }),
  }),
])

t.test('coerces, applies defaults and reads only schema variables', async (t) => {
  const cfg = loadConfig(schema, {
    SPIFFE_ENDPOINT_SOCKET: 'unix:///tmp/x.sock',
    PORT: '7001',
    STAND_IN: 'true',
    CARDPLANE_SERVICE_URLS: '{"cards":"http://127.0.0.1:9999"}',
    UNRELATED: 'x',
  })
  t.equal(cfg.PORT, 7001)
  t.equal(cfg.STAND_IN, true)
  t.equal(cfg.DEADLINE_MS, 1500)
  t.equal(cfg.HOST, '127.0.0.1')
  t.equal(cfg.LOG_LEVEL, 'info')
  t.same(cfg.CARDPLANE_SERVICE_URLS, { cards: 'http://127.0.0.1:9999' })
  t.notOk('UNRELATED' in cfg)
  t.equal(serviceUrl(cfg, zoneMap(), 'cards'), 'http://127.0.0.1:9999')
  t.equal(serviceUrl(cfg, zoneMap(), 'ledger'), 'http://127.0.0.1:7002')
})

t.test('errors name every bad variable and never echo values', async (t) => {
  const secret = 'postgres://u:hunter2@db/x'
  try {
    loadConfig(schema, { PORT: 'seventy', LOG_LEVEL: 'loud', DEADLINE_MS: '0', CARDPLANE_SERVICE_URLS: '{nope', DATABASE_URL: secret })
    t.fail('should throw')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    const e = err as ConfigError
    t.equal(e.code, 'config_invalid')
    const names = e.context.variables.map((v) => v.name).sort()
    t.same(names, ['CARDPLANE_SERVICE_URLS', 'DEADLINE_MS', 'LOG_LEVEL', 'PORT', 'SPIFFE_ENDPOINT_SOCKET'])
    t.match(e.message, /SPIFFE_ENDPOINT_SOCKET: is required/)
    t.match(e.message, /LOG_LEVEL: must be one of fatal \| error/)
    t.match(e.message, /CARDPLANE_SERVICE_URLS: must be JSON/)
    t.notMatch(e.message, /hunter2|seventy|loud/)
  }
})

t.test('empty strings count as unset', async (t) => {
  t.throws(() => loadConfig(schema, { SPIFFE_ENDPOINT_SOCKET: '' }), { code: 'config_invalid' })
})

t.test('undocumented variables are refused', async (t) => {
  const bad = Type.Object({ X: Type.String({ default: 'a' }) })
  t.throws(() => loadConfig(bad, {}), /X: variable has no description/)
})

t.test('describeConfig renders a markdown table of every variable', async (t) => {
  const md = describeConfig(schema)
  const rows = md.split('\n')
  t.equal(rows.length, 2 + Object.keys(schema.properties).length)
  t.match(md, /\| `SPIFFE_ENDPOINT_SOCKET` \| string \| yes \|/)
  t.match(md, /\| `DEADLINE_MS` \| integer \| no \| `1500` \| Authorisation deadline\. \|/)
  t.match(md, /\| `CARDPLANE_ZONES_FILE` \| string \| no \| `k8s\/zones\.yaml` \|/)
  t.notMatch(md, /\/work\//, 'no machine-specific paths')
})
