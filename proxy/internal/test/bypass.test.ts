// Every bypass attempt from the issue, sent over a raw TCP socket (so node/fastify normalisation
// cannot hide what actually arrives), each with a valid JWT-SVID of an allowed caller: the proxy must
// refuse it and the upstream must never see it. Upstreams are real service apps (SPIFFE-checked).
import t from 'tap'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createServiceApp } from '@cardplane/service-kit'
import { startTestIdentities } from '@cardplane/service-kit/testing'
import { loadZoneMap, serviceByName } from '@cardplane/zones'
import { buildApp } from '../src/app.js'

const zoneMap = loadZoneMap()
const self = serviceByName(zoneMap, 'proxy-internal')
const ids = await startTestIdentities(zoneMap, ['proxy-internal', 'processor', 'cards', 'authorizations', 'ledger'])

/** What the upstream received (headers included), to prove refusals never reach it. */
const hits: { service: string; method: string; url: string; headers: Record<string, unknown>; body: unknown }[] = []

async function upstream(service: string, register: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance; url: string }> {
  const app = await createServiceApp({ service, config: { LOG_LEVEL: 'silent' }, bundles: ids.client(service), zoneMap, defaultMetrics: false })
  app.addHook('preHandler', async (req) => {
    hits.push({ service, method: req.method, url: req.url, headers: req.headers, body: req.body })
  })
  register(app)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, url }
}

const processor = await upstream('processor', (app) => {
  const cfg = { config: { callers: ['proxy-internal'] } }
  app.post('/v1/cde/cards', cfg, async (_req, reply) => reply.code(201).send({ cards: [{ cardId: 'card_x', lastFour: '1111' }] }))
  app.get<{ Params: { cardId: string } }>('/v1/cde/cards/:cardId', cfg, async (req, reply) => {
    if (req.params.cardId === 'card_leak') return { cardId: 'card_leak', pan: '4539 9120 0000 0008' }
    if (req.params.cardId === 'card_redirect') return reply.redirect('http://127.0.0.1:1/elsewhere', 302)
    if (req.params.cardId === 'card_huge') return { cardId: 'card_huge', filler: 'x'.repeat(1_100_000) }
    return { cardId: req.params.cardId, lastFour: '0006' }
  })
})
const authorizations = await upstream('authorizations', (app) => {
  app.post('/v1/decisions', { config: { callers: ['proxy-internal'] } }, async () => ({ decision: 'approve' }))
})

const proxy = await buildApp({
  config: { LOG_LEVEL: 'silent' },
  bundles: ids.client('proxy-internal'),
  zoneMap,
  upstreamUrl: (name) => (name === 'processor' ? processor.url : name === 'authorizations' ? authorizations.url : 'http://127.0.0.1:1'),
})
await proxy.listen({ host: '127.0.0.1', port: 0 })
const port = (proxy.server.address() as AddressInfo).port
const HOST = `127.0.0.1:${port}`

t.teardown(async () => {
  await proxy.close()
  await processor.app.close()
  await authorizations.app.close()
  await ids.close()
})

async function token(caller: string): Promise<string> {
  return (await ids.client(caller).fetchJwtSvid(self.spiffeId)).token
}

/** Send raw bytes, return the status code and the whole response text. */
function raw(bytes: string | Buffer, timeoutMs = 5000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => sock.destroy(), timeoutMs)
    sock.on('data', (c) => {
      chunks.push(c)
      // One response is enough: stop once headers and a complete body (or a close) arrived.
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /content-length: (\d+)/i.exec(text)
      const head = text.indexOf('\r\n\r\n')
      if (m && head !== -1 && text.length - head - 4 >= Number(m[1])) sock.end()
    })
    sock.on('error', reject)
    sock.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text })
    })
    sock.write(bytes)
  })
}

function request(method: string, target: string, headers: string[], body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, ...headers]
  if (body && !headers.some((h) => /^(content-length|transfer-encoding):/i.test(h))) lines.push(`Content-Length: ${Buffer.byteLength(body)}`)
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}

const json = 'Content-Type: application/json'
const body = '{"program":{"id":"p"}}'

t.test('a normal request passes, hop-by-hop headers named in Connection are not forwarded', async (t) => {
  const auth = `Authorization: Bearer ${await token('cards')}`
  const before = hits.length
  const r = await raw(request('POST', '/v1/cde/cards', [`Host: ${HOST}`, auth, json, 'Connection: close, X-Secret-Hop', 'X-Secret-Hop: 1', 'Keep-Alive: timeout=5', 'Accept: application/json'], body))
  t.equal(r.status, 201, r.text.slice(0, 200))
  t.equal(hits.length, before + 1)
  const seen = hits.at(-1)!.headers
  t.equal(seen['x-secret-hop'], undefined, 'header named in Connection dropped')
  t.equal(seen['keep-alive'], undefined)
  t.equal(seen['x-cardplane-caller'], serviceByName(zoneMap, 'cards').spiffeId, 'original caller passed on')
  t.match(String(seen.authorization), /^Bearer /)
  t.not(seen.authorization, auth.slice('Authorization: '.length), 'upstream gets the proxy’s own SVID, not the caller’s')
  const get = await raw(request('GET', '/v1/cde/cards/card_abc', [`Host: ${HOST}`, auth, 'Connection: close']))
  t.equal(get.status, 200)
})

t.test('every bypass form is refused and never reaches the upstream', async (t) => {
  const auth = `Authorization: Bearer ${await token('cards')}`
  const h = [`Host: ${HOST}`, auth, 'Connection: close']
  const cases: [string, string | Buffer][] = [
    ['dot-dot', request('GET', '/v1/cde/cards/../cards/card_abc', h)],
    ['%2e%2e', request('GET', '/v1/cde/cards/%2e%2e/cards/card_abc', h)],
    ['.%2e', request('GET', '/v1/cde/cards/.%2e/cards/card_abc', h)],
    ['%2f', request('GET', '/v1/cde%2fcards/card_abc', h)],
    ['%5c', request('GET', '/v1/cde%5ccards/card_abc', h)],
    ['backslash', request('GET', '/v1/cde\\cards/card_abc', h)],
    ['double slash', request('GET', '/v1//cde/cards/card_abc', h)],
    ['double encoding', request('GET', '/v1/cde/cards/%252e%252e', h)],
    ['overlong UTF-8', request('GET', '/v1/cde/cards/%c0%ae%c0%ae/x', h)],
    ['path parameter', request('GET', '/v1/cde/cards/card_abc;x=1', h)],
    ['%00', request('GET', '/v1/cde/cards/card_abc%00', h)],
    ['absolute-form', request('GET', `http://${HOST}/v1/cde/cards/card_abc`, h)],
    ['absolute-form other host', request('GET', 'http://processor.internal/v1/cde/cards/card_abc', h)],
    ['Host mismatch', request('GET', '/v1/cde/cards/card_abc', ['Host: processor:7201', auth, 'Connection: close'])],
    ['duplicate Host', request('GET', '/v1/cde/cards/card_abc', [...h, `Host: ${HOST}`])],
    ['X-HTTP-Method-Override', request('POST', '/v1/cde/cards', [...h, json, 'X-HTTP-Method-Override: DELETE'], body)],
    ['X-Original-URL', request('GET', '/v1/cde/cards/card_abc', [...h, 'X-Original-URL: /v1/admin'])],
    ['X-Rewrite-URL', request('GET', '/v1/cde/cards/card_abc', [...h, 'X-Rewrite-URL: /v1/admin'])],
    ['spoofed X-Forwarded-For', request('GET', '/v1/cde/cards/card_abc', [...h, 'X-Forwarded-For: 10.0.0.1'])],
    ['spoofed X-Forwarded-Host', request('GET', '/v1/cde/cards/card_abc', [...h, 'X-Forwarded-Host: processor'])],
    ['spoofed X-Cardplane-Caller', request('GET', '/v1/cde/cards/card_abc', [...h, 'X-Cardplane-Caller: spiffe://cardplane.dev/g2/processor'])],
    ['method not on route', request('DELETE', '/v1/cde/cards/card_abc', h)],
    ['PUT on a POST route', request('PUT', '/v1/cde/cards', [...h, json], body)],
    ['path not on the list', request('GET', '/v1/cde/secrets', h)],
    ['trailing slash', request('GET', '/v1/cde/cards/card_abc/', h)],
    ['oversized headers', request('GET', '/v1/cde/cards/card_abc', [...h, `X-Pad: ${'a'.repeat(9000)}`])],
    ['oversized body', request('POST', '/v1/cde/cards', [...h, json], `{"p":"${'a'.repeat(70_000)}"}`)],
    ['CL + TE', request('POST', '/v1/cde/cards', [...h, json, `Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'], `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`)],
    ['duplicate Content-Length', request('POST', '/v1/cde/cards', [...h, json, `Content-Length: ${body.length}`, `Content-Length: ${body.length}`], body)],
    ['conflicting Content-Length', request('POST', '/v1/cde/cards', [...h, json, `Content-Length: ${body.length}`, 'Content-Length: 1'], body)],
    ['TE not chunked', request('POST', '/v1/cde/cards', [...h, json, 'Transfer-Encoding: gzip, chunked'], `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`)],
    ['asterisk-form', request('OPTIONS', '*', h)],
    ['raw non-ASCII', Buffer.from(request('GET', '/v1/cde/cards/card_\u00e9', h), 'latin1')],
  ]
  for (const [name, bytes] of cases) {
    const before = hits.length
    const r = await raw(bytes)
    t.ok(r.status >= 400 && r.status < 500, `${name}: refused with ${r.status}`)
    t.equal(hits.length, before, `${name}: upstream never reached`)
  }
})

t.test('caller and identity rules: wrong caller, no token', async (t) => {
  const before = hits.length
  const ledger = await raw(request('GET', '/v1/cde/cards/card_abc', [`Host: ${HOST}`, `Authorization: Bearer ${await token('ledger')}`, 'Connection: close']))
  t.equal(ledger.status, 403, 'ledger is not on the route (and has no edge to the proxy)')
  const processorAsCaller = await raw(request('GET', '/v1/cde/cards/card_abc', [`Host: ${HOST}`, `Authorization: Bearer ${await token('processor')}`, 'Connection: close']))
  t.equal(processorAsCaller.status, 403, 'processor may not use the cards route')
  const anon = await raw(request('GET', '/v1/cde/cards/card_abc', [`Host: ${HOST}`, 'Connection: close']))
  t.equal(anon.status, 401)
  t.equal(hits.length, before)
})

t.test('an upstream redirect is refused, not followed', async (t) => {
  const r = await raw(request('GET', '/v1/cde/cards/card_redirect', [`Host: ${HOST}`, `Authorization: Bearer ${await token('cards')}`, 'Connection: close']))
  t.equal(r.status, 502)
  t.match(r.text, /upstream_redirect_refused/)
  t.notMatch(r.text, /elsewhere/, 'the Location is not passed on')
})

t.test('an upstream answer past the response limit is refused, and the proxy keeps working', async (t) => {
  const r = await raw(request('GET', '/v1/cde/cards/card_huge', [`Host: ${HOST}`, `Authorization: Bearer ${await token('cards')}`, 'Connection: close']))
  t.equal(r.status, 502)
  t.match(r.text, /upstream_response_too_large/)
  t.notMatch(r.text, /xxxx/)
  const ok = await raw(request('GET', '/v1/cde/cards/card_abc', [`Host: ${HOST}`, `Authorization: Bearer ${await token('cards')}`, 'Connection: close']))
  t.equal(ok.status, 200)
  t.match(ok.text, /"lastFour":"0006"/)
})

t.test('PAN guard: blocked in both directions towards the main cluster, logged masked, counted', async (t) => {
  const resp = await raw(request('GET', '/v1/cde/cards/card_leak', [`Host: ${HOST}`, `Authorization: Bearer ${await token('cards')}`, 'Connection: close']))
  t.equal(resp.status, 502, 'a response carrying a PAN towards cards is blocked')
  t.match(resp.text, /pan_guard_blocked/)
  t.notMatch(resp.text, /4539/, 'nothing of the PAN reaches the caller')
  const before = hits.filter((x) => x.service === 'authorizations').length
  const leaky = JSON.stringify({ cardId: 'card_x', note: 'pan 4539912000000008 here' })
  const req = await raw(request('POST', '/v1/decisions', [`Host: ${HOST}`, `Authorization: Bearer ${await token('processor')}`, json, 'Connection: close'], leaky))
  t.equal(req.status, 403, 'a request body carrying a PAN towards authorizations is blocked')
  t.equal(hits.filter((x) => x.service === 'authorizations').length, before, 'authorizations never saw it')
  const clean = await raw(request('POST', '/v1/decisions', [`Host: ${HOST}`, `Authorization: Bearer ${await token('processor')}`, json, 'Connection: close'], '{"cardId":"card_x","amount":1000}'))
  t.equal(clean.status, 200)
  const metrics = (await proxy.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /proxy_pan_guard_blocks_total\{[^}]*route="cde-get-card"[^}]*direction="response"[^}]*\} 1/)
  t.match(metrics, /proxy_pan_guard_blocks_total\{[^}]*route="decisions"[^}]*direction="request"[^}]*\} 1/)
  t.match(metrics, /proxy_refusals_total\{[^}]*code="target_encoded_slash"/)
})
