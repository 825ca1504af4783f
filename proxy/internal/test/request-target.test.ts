import t from 'tap'
import { normaliseTarget } from '../src/domain/request-target.js'
import { matchRoute, DEFAULT_ROUTES, validateRoutes } from '../src/domain/route-table.js'
import { checkHeaders, forwardableHeaders } from '../src/domain/header-check.js'
import { containsPan, maskedPans } from '../src/domain/pan-guard.js'

t.test('plain targets normalise to themselves; harmless encodings are decoded', async (t) => {
  t.same(normaliseTarget('/v1/cde/cards/card_abc'), { ok: true, target: { path: '/v1/cde/cards/card_abc', query: '' } })
  t.same(normaliseTarget('/v1/cde/cards/card%5Fabc?x=1'), { ok: true, target: { path: '/v1/cde/cards/card_abc', query: 'x=1' } })
  t.same(normaliseTarget('/'), { ok: true, target: { path: '/', query: '' } })
})

t.test('every bypass form is refused with its own code', async (t) => {
  const cases: [string, string][] = [
    ['/v1/cde/../admin', 'target_dot_segment'],
    ['/v1/cde/./cards', 'target_dot_segment'],
    ['/v1/cde/%2e%2e/admin', 'target_encoded_dot'],
    ['/v1/cde/.%2e/admin', 'target_encoded_dot'],
    ['/v1/cde/%2E%2E/admin', 'target_encoded_dot'],
    ['/v1/cde%2fcards', 'target_encoded_slash'],
    ['/v1/cde%2Fcards', 'target_encoded_slash'],
    ['/v1/cde%5ccards', 'target_encoded_backslash'],
    ['/v1/cde\\cards', 'target_backslash'],
    ['/v1//cde/cards', 'target_empty_segment'],
    ['//v1/cde/cards', 'target_empty_segment'],
    ['/v1/cde/cards/', 'target_empty_segment'],
    ['/v1/cde/%252e%252e/x', 'target_double_encoding'],
    ['/v1/cde/%c0%ae%c0%ae/x', 'target_overlong_utf8'],
    ['/v1/cde/%e0%80%ae/x', 'target_overlong_utf8'],
    ['/v1/cde/%c3%a9', 'target_non_ascii'],
    ['/v1/cde/cards;jsessionid=1', 'target_path_parameter'],
    ['/v1/cde/cards%00.json', 'target_encoded_nul'],
    ['/v1/cde/cards?x=%00', 'target_encoded_nul'],
    ['/v1/cde/cards?x=%252e', 'target_double_encoding'],
    ['http://proxy/v1/cde/cards', 'target_absolute_form'],
    ['HTTPS://proxy/v1/cde/cards', 'target_absolute_form'],
    ['*', 'target_not_origin_form'],
    ['proxy:80', 'target_not_origin_form'],
    ['/v1/cde/cards#frag', 'target_fragment'],
    ['/v1/cde/cards/\u00e9', 'target_non_ascii'],
    ['/v1/cde/%3f', 'target_encoded_reserved'],
    ['/v1/cde/%zz', 'target_bad_percent_encoding'],
    ['/v1/cde/%0a', 'target_control_char'],
    [`/${'a'.repeat(3000)}`, 'target_too_long'],
  ]
  for (const [target, code] of cases) {
    const r = normaliseTarget(target)
    t.same(r, { ok: false, code }, target.slice(0, 60))
  }
})

t.test('route matching: caller, method and template all count', async (t) => {
  const ok = matchRoute(DEFAULT_ROUTES, 'cards', 'GET', '/v1/cde/cards/card_x1')
  t.ok(ok.ok)
  if (ok.ok) t.same(ok.params, { cardId: 'card_x1' })
  t.same(matchRoute(DEFAULT_ROUTES, 'cards', 'DELETE', '/v1/cde/cards/card_x1'), { ok: false, code: 'route_method_not_allowed' })
  t.same(matchRoute(DEFAULT_ROUTES, 'ledger', 'GET', '/v1/cde/cards/card_x1'), { ok: false, code: 'route_caller_not_allowed' })
  t.same(matchRoute(DEFAULT_ROUTES, 'cards', 'GET', '/v1/cde/secrets'), { ok: false, code: 'route_not_found' })
  t.same(matchRoute(DEFAULT_ROUTES, 'cards', 'GET', '/v1/cde/cards/a.b'), { ok: false, code: 'route_not_found' })
  t.throws(() => validateRoutes([{ id: 'x', caller: 'nobody', methods: ['GET'], path: '/a', upstream: 'cards' }], ['cards']))
  t.throws(() => validateRoutes({}, ['cards']))
  t.same(validateRoutes(DEFAULT_ROUTES, ['cards', 'processor', 'authorizations', 'manufacturing', 'console']).length, DEFAULT_ROUTES.length)
})

t.test('the operator action into the CDE: console alone, POST alone, no body', async (t) => {
  const path = '/v1/cde/admin/index-key/replace'
  const ok = matchRoute(DEFAULT_ROUTES, 'console', 'POST', path)
  t.ok(ok.ok)
  if (ok.ok) {
    t.equal(ok.route.upstream, 'processor')
    t.equal(ok.route.maxBodyBytes, 0)
  }
  t.same(matchRoute(DEFAULT_ROUTES, 'cards', 'POST', path), { ok: false, code: 'route_caller_not_allowed' }, 'cards may not')
  t.same(matchRoute(DEFAULT_ROUTES, 'console', 'GET', path), { ok: false, code: 'route_method_not_allowed' })
  t.same(matchRoute(DEFAULT_ROUTES, 'console', 'POST', '/v1/cde/cards'), { ok: false, code: 'route_caller_not_allowed' }, 'console issues no cards here')
})

t.test('header checks on the raw header list', async (t) => {
  const policy = { allowedHosts: new Set(['proxy:1']), maxHeaderBytes: 1000, maxHeaderCount: 20 }
  const base = ['Host', 'proxy:1']
  t.equal(checkHeaders(base, policy), undefined)
  t.equal(checkHeaders([...base, 'Content-Length', '1', 'Transfer-Encoding', 'chunked'], policy), 'framing_cl_and_te')
  t.equal(checkHeaders([...base, 'Content-Length', '1', 'content-length', '1'], policy), 'framing_duplicate_content_length')
  t.equal(checkHeaders([...base, 'Transfer-Encoding', 'gzip, chunked'], policy), 'framing_bad_transfer_encoding')
  t.equal(checkHeaders([...base, 'X-HTTP-Method-Override', 'DELETE'], policy), 'header_method_override')
  t.equal(checkHeaders([...base, 'X-Original-URL', '/admin'], policy), 'header_url_override')
  t.equal(checkHeaders([...base, 'X-Forwarded-For', '1.2.3.4'], policy), 'header_spoofed_forwarding')
  t.equal(checkHeaders([...base, 'X-Cardplane-Caller', 'spiffe://x/g0/cards'], policy), 'header_spoofed_forwarding')
  t.equal(checkHeaders(['Host', 'evil:1'], policy), 'header_host_mismatch')
  t.equal(checkHeaders([], policy), 'header_host_missing')
  t.equal(checkHeaders([...base, 'X-Big', 'a'.repeat(2000)], policy), 'header_too_large')
  const fwd = forwardableHeaders(['Host', 'h', 'Connection', 'keep-alive, X-Secret', 'X-Secret', 's', 'Keep-Alive', '5', 'Accept', 'a'], new Set(['host']))
  t.same(fwd, { accept: 'a' })
})

t.test('PAN guard sees contiguous, grouped and escaped PANs, not ordinary numbers', async (t) => {
  t.ok(containsPan('{"pan":"4111111111111111"}'))
  t.ok(containsPan('{"n":4111111111111111}'))
  t.ok(containsPan('card 4111 1111 1111 1111 here'))
  t.ok(containsPan('{"p":"\\u0034111111111111111"}'))
  t.notOk(containsPan('{"amount":1000,"at":"2026-11-22T10:00:00Z","id":"card_01hx"}'))
  t.notOk(containsPan('4111111111111112'))
  t.same(maskedPans(Buffer.from('x 4111111111111111 y')), ['411111******1111'])
})

t.test('PAN guard: a Luhn-valid 15-digit Visa transaction id passes only in its own fields', async (t) => {
  const tid = '381234567890128' // 15 digits, Luhn-valid: would look like a PAN anywhere else
  t.ok(containsPan(tid), 'the id alone looks like a PAN')
  t.notOk(containsPan(`{"network":{"schemeTransactionId":"${tid}","originalSchemeTransactionId": "${tid}"}}`))
  t.ok(containsPan(`{"network":{"rrn":"${tid}"}}`), 'another field is still scanned')
  t.ok(containsPan('{"network":{"schemeTransactionId":"4111111111111111"}}'), 'a 16-digit PAN in the exempt field is caught')
  t.ok(containsPan(`{"schemeTransactionId":"${tid}","pan":"4111111111111111"}`), 'the rest of the body is still scanned')
  t.ok(containsPan('{"schemeTransactionId":"\\u0034111111111111111"}'), 'escaped digits cannot slip through the exemption')
  const batch = JSON.stringify({ requests: [1, 2, 3].map((i) => ({ authorizationId: `a${i}`, network: { schemeTransactionId: tid } })) })
  t.notOk(containsPan(batch), 'the exemption holds in a batch of decisions (POST /v1/decisions/batch)')
  t.ok(containsPan(batch.replace('"a2"', '"4111111111111111"')), 'and a PAN anywhere in the batch is caught')
})
