import t from 'tap'
import { isSpiffeId, parseSpiffeId, trustDomainFromKey, trustDomainId } from '../src/index.js'

t.test('valid IDs parse into trust domain and path', async (t) => {
  t.same(parseSpiffeId('spiffe://cardplane.dev/g2/processor'), { trustDomain: 'cardplane.dev', path: '/g2/processor' })
  t.same(parseSpiffeId('spiffe://cardplane.dev'), { trustDomain: 'cardplane.dev', path: '' })
  t.same(parseSpiffeId('spiffe://a-b_c.9/Seg.Ment-_x'), { trustDomain: 'a-b_c.9', path: '/Seg.Ment-_x' })
  t.ok(isSpiffeId('spiffe://x/...'), 'three dots is an ordinary segment')
})

t.test('invalid IDs are refused with a stable code', async (t) => {
  const cases: [string, string][] = [
    ['', 'spiffe_id_empty'],
    ['SPIFFE://cardplane.dev/a', 'spiffe_id_bad_scheme'],
    ['https://cardplane.dev/a', 'spiffe_id_bad_scheme'],
    ['spiffe:/cardplane.dev/a', 'spiffe_id_bad_scheme'],
    ['spiffe:///a', 'spiffe_id_bad_trust_domain'],
    ['spiffe://CardPlane.dev/a', 'spiffe_id_bad_trust_domain'],
    ['spiffe://cardplane.dev:443/a', 'spiffe_id_bad_trust_domain'],
    ['spiffe://user@cardplane.dev/a', 'spiffe_id_bad_trust_domain'],
    ['spiffe://cardplane.dev?x=1', 'spiffe_id_bad_trust_domain'],
    [`spiffe://${'a'.repeat(256)}/x`, 'spiffe_id_bad_trust_domain'],
    ['spiffe://cardplane.dev/', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/a//b', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/a/', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/a/./b', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/a/../b', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/a?x=1', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/a#frag', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/a%20b', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/a b', 'spiffe_id_bad_path'],
    ['spiffe://cardplane.dev/é', 'spiffe_id_bad_path'],
    [`spiffe://cardplane.dev/${'a/'.repeat(1100)}a`, 'spiffe_id_too_long'],
  ]
  for (const [id, code] of cases) {
    t.throws(() => parseSpiffeId(id), { code }, JSON.stringify(id.slice(0, 60)))
    t.notOk(isSpiffeId(id))
  }
})

t.test('error messages do not echo the input', async (t) => {
  try {
    parseSpiffeId('spiffe://cardplane.dev/4111111111111111?x')
    t.fail('should throw')
  } catch (err) {
    t.notMatch((err as Error).message, /4111/)
  }
})

t.test('bundle keys: bare names and trust domain IDs', async (t) => {
  t.equal(trustDomainFromKey('spiffe://cardplane.dev'), 'cardplane.dev')
  t.equal(trustDomainFromKey('cardplane.dev'), 'cardplane.dev')
  t.equal(trustDomainId('cardplane.dev'), 'spiffe://cardplane.dev')
  t.throws(() => trustDomainFromKey('spiffe://Bad'), { code: 'spiffe_id_bad_trust_domain' })
})
