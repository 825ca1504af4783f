import t from 'tap'
import { frame, FrameSplitter, type FrameEvent } from '../src/index.js'
import { thrown } from './helpers.js'

const payloads = [Buffer.from('first message'), Buffer.alloc(0), Buffer.from('x'.repeat(300)), Buffer.from('last')]

for (const kind of ['binary2', 'vmlh', 'ascii4'] as const) {
  t.test(`${kind}: frames split across any chunk boundaries, zero-length frames are keep-alives`, async (t) => {
    const wire = Buffer.concat(payloads.map((p) => frame(kind, p)))
    for (const size of [1, 2, 3, 7, 64, wire.length]) {
      const s = new FrameSplitter({ kind })
      const events: FrameEvent[] = []
      for (let i = 0; i < wire.length; i += size) events.push(...s.push(wire.subarray(i, i + size)))
      t.same(
        events.map((e) => (e.type === 'message' ? e.payload.toString() : 'keepalive')),
        ['first message', 'keepalive', 'x'.repeat(300), 'last'],
        `chunks of ${size}`,
      )
      t.equal(s.pending, 0)
    }
  })
}

t.test('announced length over the limit is refused before buffering the frame', async (t) => {
  const s = new FrameSplitter({ kind: 'binary2', maxFrameSize: 100 })
  t.same(s.push(Buffer.from([0x00])), [])
  t.equal(thrown(() => s.push(Buffer.from([0xff])))?.code, 'FRAME_TOO_LARGE')
  const a = new FrameSplitter({ kind: 'ascii4' })
  t.equal(thrown(() => a.push(Buffer.from('12x4')))?.code, 'INVALID_FRAME')
  t.equal(thrown(() => frame('ascii4', Buffer.alloc(10000)))?.code, 'FRAME_TOO_LARGE')
})
