import t, { type Test } from 'tap'
import { Type } from '@sinclair/typebox'
import { CardplaneError, createServiceApp } from '../src/index.js'
import { emptyBundles, memoryLogger, zoneMap } from './helpers.js'

// Luhn-valid test PANs from the schemes' public test ranges, in several written forms.
const PANS = ['4111111111111111', '5555555555554444', '378282246310005', '6011000990139424', '4000000000000000006']
const FORMS = (pan: string): string[] => [pan, pan.replace(/(\d{4})(?=\d)/g, '$1 '), pan.replace(/(\d{4})(?=\d)/g, '$1-')]

/** Independent check (not the scrubber under test): any Luhn-valid 13–19 digit run left in the text. */
function leakedPans(text: string): string[] {
  const found: string[] = []
  // The fraction of a decimal (fastify's responseTime, e.g. 0.816921000000548) is not a card number and the
  // scrubber rightly leaves it; a digit run after "<digit>." is skipped, any other run is checked.
  const digitsOnlyRuns = text.replace(/(\d)[ -](?=\d)/g, '$1').match(/(?<!\d\.\d*)\d{13,19}/g) ?? []
  for (const run of digitsOnlyRuns) {
    let sum = 0
    for (let i = 0; i < run.length; i++) {
      let d = Number(run[run.length - 1 - i])
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2
      sum += d
    }
    if (sum % 10 === 0) found.push(run)
  }
  return found
}

function assertClean(t: Pick<Test, 'notOk' | 'same'>, text: string): void {
  for (const pan of PANS) for (const form of FORMS(pan)) t.notOk(text.includes(form), `no ${form.length}-char form of a PAN`)
  t.same(leakedPans(text), [], 'no Luhn-valid digit run at all')
}

t.test('direct logger paths', async (t) => {
  const { logger, text, lines } = memoryLogger()
  const [visa, mc, amex, disc, long] = PANS as [string, string, string, string, string]
  logger.info(`plain string ${visa}`)
  logger.info('format arg %s and %d', mc, Number(disc))
  logger.info({ card: visa, nested: { deeper: { list: [mc, { x: `amex ${amex}` }] } }, [visa]: 'as key' }, 'object')
  logger.info({ asNumber: Number(visa), grouped: '4111 1111 1111 1111', dashed: '5555-5555-5555-4444' }, 'numbers')
  logger.info({ pan: visa, cvv2: '123', pinBlock: '0412AC89ABCDEF67', track2: `${visa}=2512101`, emv: '9F2608AB' }, 'named')
  logger.info({ headers: { authorization: 'Bearer abc.def.ghi' } }, 'headers')
  const inner = new Error(`inner cause ${long}`)
  const err = new CardplaneError('card_declined', 402, { message: `declined ${visa}`, cause: inner, context: { pan: mc } })
  logger.error(err)
  logger.error({ err }, `wrapped ${amex}`)
  logger.warn({ error: new TypeError(`type ${disc}`) }, 'error under another key')
  logger.child({ binding: visa }).child({ other: mc }).info('child bindings')
  logger.info([visa, mc], 'array as object')
  const deep = { a: { b: [{ c: { CVV2: 'SECRET-CVV-A', Authorization: 'Bearer deep.tok.en' } }] } }
  logger.info(deep, 'deep fields, any case')
  const ctxErr = new CardplaneError('pin_invalid', 400, {
    context: { pinBlock: 'FEDCBA9876543210', attempt: 2 },
    cause: new CardplaneError('hsm_refused', 502, { context: { cvv2: 'SECRET-CVV-B' } }),
  })
  logger.warn({ err: ctxErr }, 'error context')
  logger.child({ track2: `${visa}=2512` }).info('sensitive binding')

  const out = text()
  t.equal(lines().length, 14, 'every call wrote one line')
  for (const l of lines()) t.doesNotThrow(() => JSON.parse(l), 'line is valid JSON')
  assertClean(t, out)
  t.match(out, /411111\*{6}1111/, 'masked form is logged (first 6 / last 4)')
  t.match(out, /"cvv2":"\[REDACTED\]"/)
  t.match(out, /"pinBlock":"\[REDACTED\]"/)
  t.match(out, /"authorization":"\[REDACTED\]"/)
  t.notMatch(out, /0412AC89ABCDEF67|2512101|9F2608AB|abc\.def\.ghi/)
  t.notMatch(out, /SECRET-CVV|deep\.tok\.en|FEDCBA9876543210|=2512/, 'names redacted at any depth, in any case, in error context and bindings')
  t.match(out, /"attempt":2/, 'non-sensitive error context is kept')
  t.same(deep.a.b[0]?.c, { CVV2: 'SECRET-CVV-A', Authorization: 'Bearer deep.tok.en' }, 'the logged object itself is not mutated')
  t.match(out, /"stack":"CardplaneError: declined 411111/, 'stack is kept, scrubbed')
  t.match(out, /inner cause 400000\*{9}0006/, 'cause is serialized and scrubbed')
})

t.test('fastify request logging, route logs, error handler and validation', async (t) => {
  const { logger, text } = memoryLogger('svc')
  const app = await createServiceApp({ service: 'cards', logger, bundles: emptyBundles(), zoneMap: zoneMap(), defaultMetrics: false })
  app.post(
    '/public/echo/:id',
    { config: { public: true }, schema: { body: Type.Object({ pan: Type.String({ maxLength: 4 }) }) } },
    async (request) => {
      request.log.info({ body: request.body, params: request.params }, 'got body')
      return { ok: true }
    },
  )
  app.post('/public/raw', { config: { public: true } }, async (request) => {
    request.log.info({ body: request.body }, 'raw body')
    return { ok: true }
  })
  app.get('/public/boom', { config: { public: true } }, async () => {
    throw new Error(`crashed while handling ${PANS[0]}`, { cause: new Error(`because ${PANS[1]}`) })
  })
  await app.ready()

  const r1 = await app.inject({ method: 'POST', url: `/public/raw?pan=${PANS[0]}`, payload: { note: `card ${PANS[2]}`, list: [PANS[3]] } })
  t.equal(r1.statusCode, 200)
  const r2 = await app.inject({ method: 'POST', url: `/public/echo/${PANS[1]}`, payload: { pan: PANS[0] } })
  t.equal(r2.statusCode, 400, 'schema refused the body')
  t.notMatch(r2.body, /4111111111111111/)
  const r3 = await app.inject({ method: 'GET', url: '/public/boom' })
  t.equal(r3.statusCode, 500)
  t.same(r3.json(), { error: { code: 'internal_error', message: 'internal error' } })
  const r4 = await app.inject({ method: 'GET', url: `/no/such/route/${PANS[4]}`, headers: { authorization: 'Bearer x.y.z' } })
  t.equal(r4.statusCode, 401, 'unknown route still needs a caller')
  await app.close()

  const out = text()
  t.match(out, /incoming request/, 'fastify request logging is on')
  t.match(out, /"url":"\/public\/raw\?pan=411111\*{6}1111"/, 'URL is logged, scrubbed')
  t.match(out, /crashed while handling 411111\*{6}1111/, 'error handler logged the 500, scrubbed')
  t.match(out, /because 555555\*{6}4444/, 'with its cause')
  assertClean(t, out)
})
