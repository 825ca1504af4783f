import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import vault from 'node-vault'
import { vaultTransport, VaultTransportOriginError } from '../src/index.js'

interface Seen {
  method: string
  url: string
  token: string | undefined
  contentType: string | undefined
  body: string
  socket: string
}

/** A Vault-shaped test server recording what it received. */
async function server(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = []
  const srv = http.createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        token: req.headers['x-vault-token'] as string | undefined,
        contentType: req.headers['content-type'],
        body,
        socket: `${req.socket.remotePort}`,
      })
      const path = (req.url ?? '').split('?')[0]
      if (path === '/v1/secret/missing') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: ['unknown_key: no key named "x"'] }))
      } else if (path === '/v1/sys/health') {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ sealed: true }))
      } else if (path === '/v1/auth/token/revoke-self') {
        res.writeHead(204).end()
      } else if (path === '/v1/text') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('not json')
      } else if (path === '/v1/slow') {
        setTimeout(() => res.writeHead(200).end('{}'), 5000).unref()
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { echo: body === '' ? null : (JSON.parse(body) as unknown), path } }))
      }
    })
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => {
    srv.close(() => r())
    srv.closeAllConnections()
  }) }
}

t.test('node-vault through the transport: paths, token, JSON bodies, keep-alive', async (t) => {
  const s = await server()
  const transport = vaultTransport(s.url, { connections: 1 })
  t.teardown(async () => {
    await transport.close()
    await s.close()
  })
  const v = vault({ endpoint: s.url, token: 'hvs.test', noCustomHTTPVerbs: true, 'request-promise': transport })
  const w = (await v.write('payments/cvv/verify/cvk', { pan: '4123456789012345', cvv: '123' })) as { data: { echo: unknown; path: string } }
  t.same(w.data.echo, { pan: '4123456789012345', cvv: '123' })
  t.equal(w.data.path, '/v1/payments/cvv/verify/cvk')
  const r = (await v.read('keys/cvk')) as { data: { echo: unknown } }
  t.equal(r.data.echo, null)
  await v.list('keys')
  t.same(
    s.seen.map((x) => [x.method, x.url, x.token]),
    [
      ['POST', '/v1/payments/cvv/verify/cvk', 'hvs.test'],
      ['GET', '/v1/keys/cvk', 'hvs.test'],
      ['GET', '/v1/keys?list=1', 'hvs.test'],
    ],
  )
  t.equal(s.seen[0]?.contentType, 'application/json')
  t.equal(s.seen[1]?.contentType, undefined, 'no content type without a body')
  t.equal(new Set(s.seen.map((x) => x.socket)).size, 1, 'one keep-alive connection served every call')
})

t.test('Vault errors, 204, sys/health and non-JSON bodies are mapped as node-vault maps them', async (t) => {
  const s = await server()
  const transport = vaultTransport(s.url)
  t.teardown(async () => {
    await transport.close()
    await s.close()
  })
  const v = vault({ endpoint: s.url, token: 'hvs.test', noCustomHTTPVerbs: true, 'request-promise': transport })
  const err = (await v.read('secret/missing').catch((e: unknown) => e)) as Error & { response?: { statusCode: number; body: unknown } }
  t.equal(err.message, 'unknown_key: no key named "x"')
  t.equal(err.response?.statusCode, 404)
  t.same(await v.health(), { sealed: true }, 'sys/health answers are not errors whatever their status')
  t.equal(await v.write('auth/token/revoke-self', {}), '', '204 has an empty body')
  t.equal(await v.read('text'), 'not json')
})

t.test('update sends its own content type once; timeouts and refused connections reject', async (t) => {
  const s = await server()
  const transport = vaultTransport(s.url, { timeoutMs: 100 })
  t.teardown(async () => {
    await transport.close()
    await s.close()
  })
  const v = vault({ endpoint: s.url, token: 'hvs.test', noCustomHTTPVerbs: true, 'request-promise': transport })
  await v.update('x', { a: 1 })
  t.equal(s.seen[0]?.contentType, 'application/merge-patch+json')
  // (undici's timers tick coarsely: the timeout fires within about a second of 100 ms)
  const slow = (await v.read('slow').catch((e: unknown) => e)) as Error & { code?: string }
  t.equal(slow.code, 'UND_ERR_HEADERS_TIMEOUT')

  const closed = await server()
  await closed.close()
  const t2 = vaultTransport(closed.url)
  t.teardown(() => t2.close())
  const refused = (await vault({ endpoint: closed.url, 'request-promise': t2 }).read('x').catch((e: unknown) => e)) as Error & { code?: string; response?: unknown }
  t.equal(refused.code, 'ECONNREFUSED')
  t.equal(refused.response, undefined, 'a network failure has no response (callers tell it from a Vault error)')
})

t.test('a request for another origin is refused, not sent', async (t) => {
  const s = await server()
  const transport = vaultTransport(s.url)
  t.teardown(async () => {
    await transport.close()
    await s.close()
  })
  const v = vault({ endpoint: s.url, 'request-promise': transport })
  v.endpoint = 'http://127.0.0.1:1'
  await t.rejects(v.read('x'), VaultTransportOriginError)
  v.endpoint = `${s.url}0`
  await t.rejects(v.read('x'), VaultTransportOriginError, 'a longer port is another origin')
  t.equal(s.seen.length, 0)
})
