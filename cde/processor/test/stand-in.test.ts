import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { exampleAuthorizationRequest } from '@cardplane/contracts'
import { standInDecision } from '../src/pipeline/stand-in.js'
import { DuplicateWindow } from '../src/pipeline/duplicate-window.js'

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const prefix = `test:standin:${randomUUID()}:`
t.teardown(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length) await redis.del(...keys)
  redis.disconnect()
})

const req = (minor: number, cardId = 'card_si_1') =>
  exampleAuthorizationRequest({ authorizationId: `a_${randomUUID()}`, cardId, amounts: { transaction: { minor, currency: 'EUR' }, cardholderBilling: { minor, currency: 'EUR' } } })

t.test('default rules decline issuer_unavailable, tagged processor_stand_in', async (t) => {
  const d = await standInDecision({ mode: 'decline' }, req(100), redis, prefix)
  t.same({ outcome: d.outcome, source: d.source, reason: d.outcome === 'decline' ? d.reason : undefined }, { outcome: 'decline', source: 'processor_stand_in', reason: 'issuer_unavailable' })
})

t.test('approve mode: per-transaction and per-card daily limits', async (t) => {
  const rules = { mode: 'approve' as const, perTransactionLimitMinor: 5000, dailyLimitMinor: 8000 }
  t.equal((await standInDecision(rules, req(6000), redis, prefix)).outcome, 'decline', 'over the per-transaction limit')
  t.equal((await standInDecision(rules, req(5000), redis, prefix)).outcome, 'approve')
  t.equal((await standInDecision(rules, req(3000), redis, prefix)).outcome, 'approve', '8000 reached exactly')
  t.equal((await standInDecision(rules, req(1), redis, prefix)).outcome, 'decline', 'daily limit spent')
  t.equal((await standInDecision(rules, req(1000, 'card_si_2'), redis, prefix)).outcome, 'approve', 'limits are per card')
  t.equal((await standInDecision({ mode: 'approve' }, req(1), redis, prefix)).outcome, 'decline', 'approve mode without limits approves nothing')
})

t.test('an unanswered claim stops blocking after pendingMs; an answer lasts the window', async (t) => {
  const w = new DuplicateWindow({ redis, prefix, windowMs: 60_000, pendingMs: 150 })
  t.equal((await w.claim('k1', Date.now() + 1000)).kind, 'owner')
  t.equal((await w.claim('k1', Date.now() + 20)).kind, 'in_flight')
  await new Promise((r) => setTimeout(r, 200))
  t.equal((await w.claim('k1', Date.now() + 20)).kind, 'owner', 'the dead claim expired')
  await w.publish('k1', { decision: { outcome: 'decline', reason: 'insufficient_funds', authorizationId: 'x', source: 'issuer', decidedAt: new Date().toISOString() } })
  await new Promise((r) => setTimeout(r, 200))
  const again = await w.claim('k1', Date.now() + 20)
  t.equal(again.kind, 'answered')
})
