import t from 'tap'
import { exportJWK, importJWK } from 'jose'
import { JwtSvidError, StaticBundleSource, validateJwtSvid } from '../src/index.js'
import { jwks, makeIssuer, sign } from './helpers.js'

const td = 'cardplane.dev'
const audience = 'spiffe://cardplane.dev/g2/processor'
const sub = 'spiffe://cardplane.dev/g1/proxy-public'
const nowSec = Math.floor(Date.now() / 1000)
const base = { sub, aud: [audience], exp: nowSec + 300, iat: nowSec }

t.test('every allowlisted algorithm validates with a matching bundle key', async (t) => {
  // One RSA key serves all six RSA algorithms (keygen is slow); EC curves differ per algorithm.
  const rsa = await makeIssuer('RS256')
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']) {
    const issuer = alg.startsWith('ES')
      ? await makeIssuer(alg)
      : { ...rsa, alg, privateKey: (await importJWK(await exportJWK(rsa.privateKey), alg)) as typeof rsa.privateKey }
    const bundles = new StaticBundleSource({ [td]: jwks(issuer) })
    const res = await validateJwtSvid(await sign(issuer, base), { audience, trustDomain: td, bundles })
    t.equal(res.spiffeId, sub, alg)
    t.same(res.claims.aud, [audience])
  }
})

t.test('a key of the wrong curve for the alg is refused', async (t) => {
  const p384 = await makeIssuer('ES384')
  const bundles = new StaticBundleSource({ [td]: jwks(p384) })
  // header says ES256, bundle key under that kid is P-384
  const token = await sign({ ...p384 }, base, { alg: 'ES384' })
  const forged = token.replace(token.split('.')[0] ?? '', Buffer.from(JSON.stringify({ alg: 'ES256', kid: p384.kid })).toString('base64url'))
  await t.rejects(validateJwtSvid(forged, { audience, trustDomain: td, bundles }), { code: 'jwt_key_alg_mismatch' })
})

t.test('clock leeway: exp and nbf within tolerance pass, beyond fail', async (t) => {
  const issuer = await makeIssuer('ES256')
  const bundles = new StaticBundleSource({ [td]: jwks(issuer) })
  const at = (sec: number) => () => sec * 1000
  const token = await sign(issuer, { ...base, exp: 1000, nbf: 900, iat: 900 })
  const opts = { audience, trustDomain: td, bundles }
  await t.resolves(validateJwtSvid(token, { ...opts, now: at(950) }))
  await validateJwtSvid(token, { ...opts, now: at(1029) })
  await t.rejects(validateJwtSvid(token, { ...opts, now: at(1030) }), { code: 'jwt_expired' })
  await validateJwtSvid(token, { ...opts, now: at(871) })
  await t.rejects(validateJwtSvid(token, { ...opts, now: at(869) }), { code: 'jwt_not_yet_valid' })
  await t.rejects(validateJwtSvid(token, { ...opts, now: at(1005), clockToleranceSec: 0 }), { code: 'jwt_expired' })
})

t.test('claims of the wrong type are malformed, not accepted', async (t) => {
  const issuer = await makeIssuer('ES256')
  const bundles = new StaticBundleSource({ [td]: jwks(issuer) })
  const opts = { audience, trustDomain: td, bundles }
  await t.rejects(validateJwtSvid(await sign(issuer, { ...base, exp: String(nowSec + 300) }), opts), { code: 'jwt_malformed' })
  await t.rejects(validateJwtSvid(await sign(issuer, { ...base, aud: [42] }), opts), { code: 'jwt_aud_mismatch' })
  await t.rejects(validateJwtSvid(await sign(issuer, { ...base, sub: 42 }), opts), { code: 'jwt_invalid_sub' })
})

t.test('no bundle for the trust domain', async (t) => {
  const issuer = await makeIssuer('ES256')
  const bundles = new StaticBundleSource({})
  await t.rejects(validateJwtSvid(await sign(issuer, base), { audience, trustDomain: td, bundles }), { code: 'jwt_no_bundle' })
})

t.test('errors never carry the token', async (t) => {
  const issuer = await makeIssuer('ES256')
  const other = await makeIssuer('ES256')
  const bundles = new StaticBundleSource({ [td]: jwks(other) })
  const token = await sign(issuer, base)
  const err = await validateJwtSvid(token, { audience, trustDomain: td, bundles }).catch((e: unknown) => e)
  t.type(err, JwtSvidError)
  const text = `${(err as Error).message} ${(err as Error).stack ?? ''}`
  for (const part of token.split('.')) t.notOk(text.includes(part))
})

t.test('verified-token cache: hits re-check the bundle key and the clock', async (t) => {
  const issuer = await makeIssuer('ES256')
  let current = jwks(issuer)
  const bundles = { getBundle: (name: string) => (name === td ? current : undefined) }
  const token = await sign(issuer, { ...base, exp: 2000, iat: 1000 })
  const opts = { audience, trustDomain: td, bundles, now: () => 1500 * 1000 }
  const first = await validateJwtSvid(token, opts)
  const second = await validateJwtSvid(token, opts)
  t.equal(second.spiffeId, first.spiffeId)
  t.equal(second.claims, first.claims, 'second call served from the cache (same frozen object)')
  t.ok(Object.isFrozen(second.claims))

  await t.rejects(validateJwtSvid(token, { ...opts, now: () => 2100 * 1000 }), { code: 'jwt_expired' }, 'clock re-checked on a hit')
  await validateJwtSvid(token, opts)

  // Same key material, new bundle object (a re-sent bundle): the hit is dropped and the token fully re-validated.
  current = { keys: current.keys.map((k) => ({ ...k })) }
  const third = await validateJwtSvid(token, opts)
  t.not(third.claims, first.claims, 'fully re-validated after the bundle changed')

  // The key is gone from the bundle (rotation): the cached result must not survive it.
  const other = await makeIssuer('ES256')
  current = jwks(other)
  await t.rejects(validateJwtSvid(token, opts), { code: 'jwt_unknown_kid' })

  // Another audience never shares an entry.
  current = jwks(issuer)
  await t.rejects(validateJwtSvid(token, { ...opts, audience: 'spiffe://cardplane.dev/g3/card-vault' }), { code: 'jwt_aud_mismatch' })
  const uncached = await validateJwtSvid(token, { ...opts, cache: false })
  t.equal(uncached.spiffeId, sub)
})

t.test('jose itself refuses an ECDSA r = s = 0 signature (not only our pre-checks)', async (t) => {
  const { compactVerify, importJWK: imp } = await import('jose')
  const issuer = await makeIssuer('ES256')
  const key = await imp({ kty: 'EC', crv: 'P-256', x: issuer.publicJwk.x, y: issuer.publicJwk.y }, 'ES256')
  const input = `${Buffer.from(JSON.stringify({ alg: 'ES256', kid: issuer.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(base)).toString('base64url')}`
  await t.rejects(compactVerify(`${input}.${Buffer.alloc(64).toString('base64url')}`, key), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })
  const good = await sign(issuer, base, { typ: undefined })
  t.ok(await compactVerify(good, key), 'control: a real signature from the same key verifies')
})
