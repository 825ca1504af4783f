import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Pool } from 'undici'
import { collectExchange } from '../src/exchange.js'

// A real server: /ok answers a body in two chunks, /big 4 KiB, /slow never answers, /cut sends its
// headers and part of a body, then drops the connection.
async function start(): Promise<{ server: Server; pool: Pool }> {
  const server = createServer((req, res) => {
    if (req.url === '/ok') {
      res.writeHead(201, { 'content-type': 'text/plain', 'x-two': ['a', 'b'] })
      res.write('hello ')
      res.end('world')
    } else if (req.url === '/big') {
      res.end(Buffer.alloc(4096, 0x61))
    } else if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': '100' })
      res.write('partial', () => res.socket?.destroy())
    }
    // /slow: no answer
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 4 })
  return { server, pool }
}

t.test('collectExchange: body, raw headers, size limit, deadline, failure after the headers', async (t) => {
  const { server, pool } = await start()
  t.teardown(async () => {
    await pool.destroy()
    server.closeAllConnections()
    server.close()
  })
  const ok = await collectExchange(pool, { method: 'GET', path: '/ok' })
  t.same([ok.statusCode, ok.body.toString(), ok.tooLarge, ok.error], [201, 'hello world', false, undefined])
  const names = ok.rawHeaders.filter((_, i) => i % 2 === 0).map((b) => b.toString().toLowerCase())
  t.same(names.filter((n) => n === 'x-two'), ['x-two', 'x-two'], 'raw headers as they came, repeats kept')

  const big = await collectExchange(pool, { method: 'GET', path: '/big' }, { maxBytes: 1024 })
  t.same([big.statusCode, big.tooLarge, big.body.length], [200, true, 0], 'past maxBytes: tooLarge, nothing kept')
  t.equal((await collectExchange(pool, { method: 'GET', path: '/big' }, { maxBytes: 4096 })).body.length, 4096, 'at the limit: kept')

  await t.rejects(collectExchange(pool, { method: 'GET', path: '/slow' }, { deadlineMs: 100 }), { name: 'TimeoutError' }, 'the deadline ends the wait (/slow never answers)')

  const cut = await collectExchange(pool, { method: 'GET', path: '/cut' })
  t.equal(cut.statusCode, 200)
  t.ok(cut.error instanceof Error, 'a failure after the headers is the answer’s error')

  const dead = new Pool('http://127.0.0.1:1', { connections: 1 })
  t.teardown(() => dead.destroy())
  await t.rejects(collectExchange(dead, { method: 'GET', path: '/' }), 'nothing answered: rejected with the connection error')
})
