import t from 'tap'
import {
  decodeFrameBatch,
  encodeFrameAnswer,
  encodeFrameBatch,
  FRAME_BATCH_MAX_FRAMES,
  FrameAnswerReader,
  FrameBatchError,
  type FrameAnswer,
} from '../src/index.js'

const frame = (n: number, fill: number): Buffer => Buffer.alloc(n, fill)

void t.test('a batch round-trips: frames, receipt times and order', async (t) => {
  const items = [
    { frame: frame(1, 1), receivedAt: 0 },
    { frame: frame(300, 2), receivedAt: 1_764_926_400_123 },
    { frame: frame(0xffff, 3), receivedAt: 2 ** 48 - 1 },
  ]
  const back = decodeFrameBatch(encodeFrameBatch(items))
  t.equal(back.length, 3)
  for (const [i, item] of items.entries()) {
    t.equal(back[i]!.receivedAt, item.receivedAt)
    t.ok(back[i]!.frame.equals(item.frame), `frame ${i}`)
  }
})

void t.test('encoding refuses what the format cannot carry', async (t) => {
  t.throws(() => encodeFrameBatch([]), FrameBatchError)
  t.throws(() => encodeFrameBatch(Array.from({ length: FRAME_BATCH_MAX_FRAMES + 1 }, () => ({ frame: frame(1, 0), receivedAt: 1 }))), FrameBatchError)
  t.throws(() => encodeFrameBatch([{ frame: Buffer.alloc(0), receivedAt: 1 }]), /length 0/)
  t.throws(() => encodeFrameBatch([{ frame: frame(0x10000, 0), receivedAt: 1 }]), /length 65536/)
  t.throws(() => encodeFrameBatch([{ frame: frame(1, 0), receivedAt: 1.5 }]), /receipt time/)
  t.throws(() => encodeFrameBatch([{ frame: frame(1, 0), receivedAt: -1 }]), /receipt time/)
})

void t.test('decoding refuses malformed bodies with a typed error that shows no frame bytes', async (t) => {
  const good = encodeFrameBatch([{ frame: Buffer.from('4111111111111111'), receivedAt: 5 }])
  const cases: [string, Buffer][] = [
    ['empty body', Buffer.alloc(0)],
    ['header cut short', good.subarray(0, 5)],
    ['frame cut short', good.subarray(0, good.length - 1)],
    ['trailing bytes', Buffer.concat([good, Buffer.from([0])])],
    ['zero length', Buffer.concat([good, Buffer.alloc(8)])],
    ['too many frames', Buffer.concat(Array.from({ length: FRAME_BATCH_MAX_FRAMES + 1 }, () => good))],
  ]
  for (const [name, body] of cases) {
    try {
      decodeFrameBatch(body)
      t.fail(`${name}: accepted`)
    } catch (err) {
      t.type(err, FrameBatchError, name)
      t.equal((err as FrameBatchError).code, 'frame_batch_malformed', name)
      t.notMatch((err as Error).message, /4111/, `${name}: no frame bytes in the message`)
    }
  }
})

void t.test('answers are read back whatever the chunking, in the order they were written', async (t) => {
  const answers: FrameAnswer[] = [
    { index: 3, action: 'answer', frame: frame(40, 9) },
    { index: 0, action: 'none' },
    { index: 2, action: 'close' },
    { index: 1, action: 'error' },
    { index: 63, action: 'answer', frame: frame(0xffff, 7) },
  ]
  const body = Buffer.concat(answers.map(encodeFrameAnswer))
  for (const size of [1, 2, 5, 7, 64, body.length]) {
    const reader = new FrameAnswerReader()
    const got: FrameAnswer[] = []
    for (let at = 0; at < body.length; at += size) got.push(...reader.push(body.subarray(at, at + size)))
    t.same(got, answers, `chunks of ${size}`)
    t.equal(reader.rest, 0)
  }
  const reader = new FrameAnswerReader()
  t.same(reader.push(body.subarray(0, 10)), [], 'an unfinished record waits')
  t.equal(reader.rest, 10)
})

void t.test('a corrupt answer stream is a typed error', async (t) => {
  const bad = encodeFrameAnswer({ index: 0, action: 'none' })
  bad.writeUInt8(9, 2)
  t.throws(() => new FrameAnswerReader().push(bad), FrameBatchError)
  const noneWithBytes = encodeFrameAnswer({ index: 0, action: 'none' })
  noneWithBytes.writeUInt16BE(4, 3)
  t.throws(() => new FrameAnswerReader().push(noneWithBytes), /none with 4 bytes/)
  t.throws(() => encodeFrameAnswer({ index: FRAME_BATCH_MAX_FRAMES, action: 'none' }), FrameBatchError)
})
