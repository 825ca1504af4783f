import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import { frame, FrameSplitter, getSpec, splitVisaMessage, VisaHeader, type FrameEvent } from '../src/index.js'
import { visa0100 } from './fixtures.js'

t.test('FrameSplitter on a real TCP socket: Visa VMLH frames written in odd pieces, keep-alives in between', async (t) => {
  const spec = getSpec('visa-base1')
  const body = spec.encode(visa0100())
  const msgFrame = frame('vmlh', Buffer.concat([VisaHeader.encode(VisaHeader.create('123456', '654321'), body.length), body]))
  const keepalive = frame('vmlh', Buffer.alloc(0))
  const wire = Buffer.concat([msgFrame, keepalive, msgFrame, msgFrame, keepalive])

  const server = net.createServer((sock) => {
    // Write in pieces of 1, 5 and 37 bytes with small pauses so the client sees partial frames.
    let p = 0
    const sizes = [1, 5, 37]
    let i = 0
    const step = (): void => {
      if (p >= wire.length) return void sock.end()
      const n = sizes[i++ % sizes.length]!
      sock.write(wire.subarray(p, p + n))
      p += n
      setTimeout(step, 1)
    }
    step()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  const client = net.connect(port, '127.0.0.1')
  const splitter = new FrameSplitter({ kind: 'vmlh', maxFrameSize: 4096 })
  const events: FrameEvent[] = []
  client.on('data', (chunk: Buffer) => events.push(...splitter.push(chunk)))
  await once(client, 'end')
  server.close()
  t.same(
    events.map((e) => e.type),
    ['message', 'keepalive', 'message', 'message', 'keepalive'],
  )
  for (const e of events) {
    if (e.type !== 'message') continue
    const { header, body: b } = splitVisaMessage(e.payload)
    t.equal(header.sourceId, '654321')
    t.same(spec.decode(b).fields['62'], { '1': 'Y', '2': '123456789012345' })
  }
  t.equal(splitter.pending, 0)
})
