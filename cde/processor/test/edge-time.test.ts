import t from 'tap'
import { MAX_EDGE_AGE_MS, edgeReceiptTime } from '../src/routes/link-frames.js'

t.test('the deadline counts from the proxy stamp when it is believable', async (t) => {
  const now = 1_800_000_000_000
  t.equal(edgeReceiptTime(String(now - 1700), now), now - 1700, 'a frame that queued 1.7 s keeps its edge time (it is late)')
  t.equal(edgeReceiptTime(String(now), now), now)
  t.equal(edgeReceiptTime(String(now - MAX_EDGE_AGE_MS), now), now - MAX_EDGE_AGE_MS)
})

t.test('absent, malformed, future or implausibly old stamps fall back to now', async (t) => {
  const now = 1_800_000_000_000
  for (const h of [undefined, '', 'abc', '12.5', '-5', '1e12', ['1', '2'], String(now + 50), String(now - MAX_EDGE_AGE_MS - 1)]) {
    t.equal(edgeReceiptTime(h, now), now, JSON.stringify(h))
  }
})
