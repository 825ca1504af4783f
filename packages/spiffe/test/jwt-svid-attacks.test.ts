import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { generateKeyPair } from 'jose'
import { loadZoneMap, serviceByName } from '@cardplane/zones'
import { spiffeAuth, StaticBundleSource } from '../src/index.js'
import { assemble, hmac, jwks, logCapture, makeIssuer, sign } from './helpers.js'

// Every attack from the issue, through a real fastify app with the plugin. Each forged token is one
// change away from `valid()`, which the control case shows is accepted — so each 401 is caused by
// exactly the defect under test, and the logged reason code says which rule caught it.
const zoneMap = loadZoneMap()
const td = zoneMap.trustDomain
const processor = serviceByName(zoneMap, 'processor')
const cardVault = serviceByName(zoneMap, 'card-vault')
const caller = serviceByName(zoneMap, 'proxy-public')

const trusted = await makeIssuer('ES256')
const foreign = await makeIssuer('ES256') // the key of another trust domain, federated into our bundle set
const stranger = await makeIssuer('ES256') // a key nobody trusts
const bundles = new StaticBundleSource({ [td]: jwks(trusted), 'evil.example': jwks(foreign) })

const logs = logCapture()
async function appFor(self: typeof processor) {
  const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
  await app.register(spiffeAuth, { self, zoneMap, bundles })
  app.get('/v1/probe', { config: { callers: ['proxy-public', 'processor'] } }, async (req) => ({ caller: req.caller }))
  await app.ready()
  t.teardown(() => app.close())
  return app
}
const app = await appFor(processor)
const vaultApp = await appFor(cardVault)

const now = (): number => Math.floor(Date.now() / 1000)
const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  sub: caller.spiffeId,
  aud: [processor.spiffeId],
  iat: now(),
  exp: now() + 300,
  ...over,
})
const valid = (over: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => sign(trusted, claims(over), header)
const without = (name: string): Record<string, unknown> => {
  const c = claims()
  delete c[name]
  return c
}

async function expectRefused(t: Test, token: string, reason: string, target = app) {
  const before = logs.lines().length
  const res = await target.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 401, 'refused with 401')
  t.equal(res.json().error.code, reason, 'response code')
  const logged = logs.lines().slice(before).filter((l) => l.msg === 'spiffe auth refused')
  t.equal(logged.length, 1, 'one refusal logged')
  t.match(logged[0], { level: 40, reason, route: 'GET /v1/probe', status: 401 }, 'logged with the reason code')
  t.notOk(logs.text().includes(token.split('.')[2] || token), 'token not in the log')
}
t.test('control: the unmodified token is accepted', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${await valid()}` } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().caller.spiffeId, caller.spiffeId)
  const asString = await app.inject({
    method: 'GET',
    url: '/v1/probe',
    headers: { authorization: `Bearer ${await valid({ aud: processor.spiffeId })}` },
  })
  t.equal(asString.statusCode, 200, 'a single aud as a string is fine too')
})

t.test('alg none', async (t) => {
  await expectRefused(t, assemble({ alg: 'none', kid: trusted.kid, typ: 'JWT' }, claims(), Buffer.alloc(0)), 'jwt_alg_not_allowed')
  await expectRefused(t, assemble({ alg: 'None', kid: trusted.kid }, claims(), Buffer.alloc(0)), 'jwt_alg_not_allowed')
})

t.test('HS256 signed with the bundle public key as the HMAC secret', async (t) => {
  const secrets = [JSON.stringify(trusted.bundleKey), JSON.stringify(trusted.publicJwk), trusted.publicJwk.x ?? '']
  for (const secret of secrets) {
    await expectRefused(t, assemble({ alg: 'HS256', kid: trusted.kid, typ: 'JWT' }, claims(), (input) => hmac(secret, input)), 'jwt_alg_not_allowed')
  }
})

t.test('algorithm outside RS/ES/PS (EdDSA, ES256K) even with a valid-looking kid', async (t) => {
  const ed = await generateKeyPair('Ed25519')
  const { CompactSign } = await import('jose')
  const token = await new CompactSign(Buffer.from(JSON.stringify(claims())))
    .setProtectedHeader({ alg: 'EdDSA', kid: trusted.kid, typ: 'JWT' })
    .sign(ed.privateKey)
  await expectRefused(t, token, 'jwt_alg_not_allowed')
  await expectRefused(t, assemble({ alg: 'ES256K', kid: trusted.kid }, claims(), Buffer.alloc(64, 1)), 'jwt_alg_not_allowed')
})

t.test('missing aud', async (t) => {
  await expectRefused(t, await sign(trusted, without('aud')), 'jwt_missing_aud')
  await expectRefused(t, await valid({ aud: [] }), 'jwt_missing_aud')
})

t.test('wrong aud', async (t) => {
  await expectRefused(t, await valid({ aud: [cardVault.spiffeId] }), 'jwt_aud_mismatch')
  await expectRefused(t, await valid({ aud: `${processor.spiffeId}/x` }), 'jwt_aud_mismatch')
})

t.test('two audiences, even when one of them is this service', async (t) => {
  await expectRefused(t, await valid({ aud: [processor.spiffeId, cardVault.spiffeId] }), 'jwt_multiple_aud')
  await expectRefused(t, await valid({ aud: [processor.spiffeId, processor.spiffeId] }), 'jwt_multiple_aud')
})

t.test('missing exp', async (t) => {
  await expectRefused(t, await sign(trusted, without('exp')), 'jwt_missing_exp')
})

t.test('expired (beyond the 30 s leeway)', async (t) => {
  await expectRefused(t, await valid({ iat: now() - 600, exp: now() - 31 }), 'jwt_expired')
})

t.test('nbf in the future', async (t) => {
  await expectRefused(t, await valid({ nbf: now() + 120 }), 'jwt_not_yet_valid')
})

t.test('sub from a foreign trust domain, signed by that domain’s own key', async (t) => {
  const token = await sign(foreign, claims({ sub: 'spiffe://evil.example/g2/proxy-public' }))
  await expectRefused(t, token, 'jwt_foreign_trust_domain')
})

t.test('unknown kid', async (t) => {
  await expectRefused(t, await sign(stranger, claims()), 'jwt_unknown_kid')
  // the right key material under a kid the bundle does not hold
  await expectRefused(t, await sign({ ...trusted, kid: 'not-in-bundle' }, claims()), 'jwt_unknown_kid')
  // kid missing altogether
  await expectRefused(t, assemble({ alg: 'ES256', typ: 'JWT' }, claims(), Buffer.alloc(64, 1)), 'jwt_missing_kid')
})

t.test('a bundle key not marked use=jwt-svid is not usable', async (t) => {
  const x509Key = await makeIssuer('ES256', 'x509-svid')
  const app2 = Fastify({ logger: { level: 'info', stream: logs.stream } })
  await app2.register(spiffeAuth, { self: processor, zoneMap, bundles: new StaticBundleSource({ [td]: jwks(x509Key) }) })
  app2.get('/v1/probe', { config: { callers: ['proxy-public'] } }, async () => ({}))
  t.teardown(() => app2.close())
  await expectRefused(t, await sign(x509Key, claims()), 'jwt_unknown_kid', app2)
})

t.test('jku / jwk / x5u / x5c headers, even on an otherwise valid token', async (t) => {
  await expectRefused(t, await valid({}, { jku: 'https://attacker.example/jwks.json' }), 'jwt_header_forbidden')
  await expectRefused(t, await valid({}, { x5u: 'https://attacker.example/cert.pem' }), 'jwt_header_forbidden')
  await expectRefused(t, await valid({}, { x5c: ['MIIB'] }), 'jwt_header_forbidden')
  // the embedded-key attack: the attacker's own key in `jwk`, signed with it
  await expectRefused(t, await sign(stranger, claims(), { kid: trusted.kid, jwk: stranger.publicJwk }), 'jwt_header_forbidden')
  await expectRefused(t, await valid({}, { jwk: trusted.publicJwk }), 'jwt_header_forbidden')
})

t.test('ECDSA signature with r = s = 0 (CVE-2022-21449 style)', async (t) => {
  const header = { alg: 'ES256', kid: trusted.kid, typ: 'JWT' }
  // Passes every header and key check, so only the signature check can refuse it.
  await expectRefused(t, assemble(header, claims(), Buffer.alloc(64, 0)), 'jwt_signature_invalid')
  await expectRefused(t, assemble(header, claims(), Buffer.alloc(0)), 'jwt_signature_invalid')
  // DER-encoded zero r/s, in case a verifier accepted DER
  await expectRefused(t, assemble(header, claims(), Buffer.from('3006020100020100', 'hex')), 'jwt_signature_invalid')
})

t.test('a valid token for service A replayed to service B', async (t) => {
  const forProcessor = await valid()
  const ok = await app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization: `Bearer ${forProcessor}` } })
  t.equal(ok.statusCode, 200, 'accepted by its audience')
  await expectRefused(t, forProcessor, 'jwt_aud_mismatch', vaultApp)
})

t.test('other header and format abuses', async (t) => {
  await expectRefused(t, await valid({}, { typ: 'at+jwt' }), 'jwt_typ_not_allowed')
  const es = { alg: 'ES256', kid: trusted.kid, typ: 'JWT' }
  await expectRefused(t, assemble({ ...es, crit: ['b64'], b64: false }, claims(), Buffer.alloc(64, 1)), 'jwt_header_forbidden')
  await expectRefused(t, assemble({ ...es, crit: ['exp'] }, claims(), Buffer.alloc(64, 1)), 'jwt_header_forbidden')
  await expectRefused(t, (await valid()) + '.extra.parts', 'jwt_malformed')
  await expectRefused(t, 'a.b', 'jwt_malformed')
  // RS256 declared for an EC bundle key: algorithm confusion across key types
  await expectRefused(t, assemble({ alg: 'RS256', kid: trusted.kid }, claims(), Buffer.alloc(256, 1)), 'jwt_key_alg_mismatch')
  // tampered payload after signing
  const [h, , s] = (await valid()).split('.')
  const forged = `${h}.${Buffer.from(JSON.stringify(claims({ sub: serviceByName(zoneMap, 'keyvault').spiffeId }))).toString('base64url')}.${s}`
  await expectRefused(t, forged, 'jwt_signature_invalid')
  await expectRefused(t, await valid({ sub: 'spiffe://cardplane.dev' }), 'jwt_invalid_sub')
  await expectRefused(t, await valid({ sub: 'https://cardplane.dev/g1/proxy-public' }), 'jwt_invalid_sub')
})

t.test('authorization header forms', async (t) => {
  const token = await valid()
  const send = (authorization: string) => app.inject({ method: 'GET', url: '/v1/probe', headers: { authorization } })
  t.equal((await send(`bearer ${token}`)).statusCode, 200, 'scheme name is case-insensitive')
  const basic = await send(`Basic ${Buffer.from('a:b').toString('base64')}`)
  t.equal(basic.statusCode, 401)
  t.equal(basic.json().error.code, 'jwt_malformed')
  const two = await send(`Bearer ${token} ${token}`)
  t.equal(two.statusCode, 401)
  t.equal(two.json().error.code, 'jwt_malformed')
  t.equal((await app.inject({ method: 'GET', url: '/v1/probe' })).json().error.code, 'jwt_missing_token')
})

t.test('unmatched URLs: 401 without a token, 404 with a valid one', async (t) => {
  t.equal((await app.inject({ method: 'GET', url: '/nope' })).statusCode, 401)
  const res = await app.inject({ method: 'GET', url: '/nope', headers: { authorization: `Bearer ${await valid()}` } })
  t.equal(res.statusCode, 404)
})
