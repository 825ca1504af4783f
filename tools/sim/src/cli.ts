import { parseArgs } from 'node:util'
import { authorizationRequest, reversalRequest, stipAdvice, type AuthKind, type SimCard } from './card-messages.js'
import { runDemo } from './demo.js'
import { currencyNumeric, type VisaMessage } from '@cardplane/visa'
import { devKeys, fetchReveal, readDevLink, yymm } from './dev-platform.js'
import { VisaLinkClient } from './visa-link-client.js'

const USAGE = `usage: pnpm cardplane sim <command> [options]

commands:
  signon | echo | signoff      0800 network management (DE 70 071 / 301 / 072)
  auth                         send one 0100 and print the answer (--then-reverse: and reverse it)
  reverse                      send a 0400 (or --advice: 0420) reversing an earlier 0100
  advice                       send a 0120: advice of a Visa stand-in (STIP) decision
  demo                         issue cards, fund them, run approvals and every decline; summary table

link options:   --host 127.0.0.1  --port 7400 (the dev Visa link)  --json
auth options:   --reveal-url <one-time reveal JSON URL>   (card details the way a cardholder gets them)
                or --pan <digits> --expiry <YYMM> [--cvv2 <digits>]
                --kind ecommerce|chip|pin  --amount <minor units>  --currency EUR  --mcc 5411  --country DE
                --pin <digits> (kind pin: the PIN block is built under the link's dev ZPK from pnpm start)
                --then-reverse full|partial:<amount that stays authorised>  [--advice: 0420 instead of 0400]
reverse options: card options, --stan <original STAN> --time <original DE 7 MMDDhhmmss> --amount <original>
                [--partial <amount that stays authorised>] [--advice] [--reason <DE 39, e.g. 68>] [--repeat]
advice options: card options, --amount, --de39 00|10|51|… (what Visa STIP answered), --stip-reason 9020
demo options:   --program demo-credit-de

The simulator plays the card and the acquirer. In development it may hold the dev ZPK (PIN blocks) and a
dev IMK-AC (ARQC): never point it at production keys.`

/** `pnpm cardplane sim …`; returns the exit code. */
export async function runSim(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  const { values } = parseArgs({
    args: rest,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      json: { type: 'boolean', default: false },
      'reveal-url': { type: 'string' },
      pan: { type: 'string' },
      expiry: { type: 'string' },
      cvv2: { type: 'string' },
      pin: { type: 'string' },
      kind: { type: 'string', default: 'ecommerce' },
      amount: { type: 'string', default: '1250' },
      currency: { type: 'string', default: 'EUR' },
      mcc: { type: 'string', default: '5411' },
      country: { type: 'string', default: 'DE' },
      program: { type: 'string', default: 'demo-credit-de' },
      'then-reverse': { type: 'string' },
      advice: { type: 'boolean', default: false },
      repeat: { type: 'boolean', default: false },
      stan: { type: 'string' },
      time: { type: 'string' },
      partial: { type: 'string' },
      reason: { type: 'string' },
      de39: { type: 'string', default: '00' },
      'stip-reason': { type: 'string', default: '9020' },
    },
    strict: true,
  })
  const devLink = readDevLink()
  const port = Number(values.port ?? devLink?.port ?? 7400)
  const out = (human: string, data: unknown): void => console.log(values.json ? JSON.stringify(data) : human)
  switch (command) {
    case 'signon':
    case 'echo':
    case 'signoff': {
      const link = await VisaLinkClient.connect({ host: values.host, port })
      try {
        const code = command === 'signon' ? '071' : command === 'echo' ? '301' : '072'
        const a = await link.networkManagement(code)
        const de39 = String(a.message.fields['39'])
        out(`0810 DE 70 ${code}: DE 39 ${de39} in ${a.latencyMs.toFixed(1)} ms`, { mti: a.message.mti, de70: code, de39, latencyMs: a.latencyMs })
        return de39 === '00' ? 0 : 1
      } finally {
        await link.close()
      }
    }
    case 'auth': {
      const card = await cardOf(values)
      if (!card) {
        console.error('auth needs --reveal-url, or --pan and --expiry\n')
        console.error(USAGE)
        return 2
      }
      if (values.pin) card.pin = values.pin
      const kind = values.kind as AuthKind
      if (!['ecommerce', 'chip', 'pin'].includes(kind)) throw new Error('--kind must be ecommerce, chip or pin')
      const link = await VisaLinkClient.connect({ host: values.host, port })
      try {
        const msg = authorizationRequest(card, devKeys(), {
          kind,
          amountMinor: Number(values.amount),
          currency: values.currency,
          mcc: values.mcc,
          country: values.country,
          stan: link.nextStan(),
          transmissionTime: VisaLinkClient.transmissionTime(),
        })
        const a = await link.send(msg)
        const de39 = String(a.message.fields['39'])
        const approval = a.message.fields['38']
        const result = {
          mti: a.message.mti,
          de39,
          approvalCode: typeof approval === 'string' ? approval : undefined,
          stan: msg.fields['11'],
          transmissionTime: msg.fields['7'],
          lastFour: card.pan.slice(-4),
          latencyMs: Math.round(a.latencyMs * 100) / 100,
        }
        const human = `0110 DE 39 ${de39}${typeof approval === 'string' ? ` approval ${approval}` : ''} in ${a.latencyMs.toFixed(1)} ms (card …${card.pan.slice(-4)}, STAN ${String(msg.fields['11'])}, DE 7 ${String(msg.fields['7'])})`
        const then = values['then-reverse']
        if (!then) {
          out(human, result)
          return 0
        }
        const partial = /^partial:([0-9]+)$/.exec(then)
        if (then !== 'full' && !partial) throw new Error('--then-reverse must be full or partial:<amount>')
        const rev = reversalRequest(msg, {
          mti: values.advice ? '0420' : '0400',
          stan: link.nextStan(),
          transmissionTime: VisaLinkClient.transmissionTime(),
          ...(partial ? { replacementMinor: Number(partial[1]) } : {}),
        })
        const r = await link.send(rev)
        const reversal = answerOf(r.message, r.latencyMs, rev)
        out(`${human}\n${reversal.mti} DE 39 ${reversal.de39} in ${reversal.latencyMs} ms (${rev.mti} ${partial ? `partial, ${partial[1]} stays authorised` : 'full'})`, { ...result, reversal })
        return 0
      } finally {
        await link.close()
      }
    }
    case 'reverse': {
      const card = await cardOf(values)
      if (!card || !values.stan || !values.time) {
        console.error('reverse needs the card (--reveal-url, or --pan and --expiry), --stan and --time of the original 0100\n')
        console.error(USAGE)
        return 2
      }
      const currency = currencyNumeric(values.currency)
      if (!currency) throw new Error(`unknown currency ${values.currency}`)
      // The original as the acquirer sent it: what DE 90 and the echoed fields need.
      const original: VisaMessage = { mti: '0100', fields: { '2': card.pan, '3': '000000', '4': String(Number(values.amount)).padStart(12, '0'), '7': values.time, '11': values.stan, '14': card.expiry, '32': '400050', '49': currency } }
      const mti = values.advice ? (values.repeat ? '0421' : '0420') : values.repeat ? '0401' : '0400'
      const link = await VisaLinkClient.connect({ host: values.host, port })
      try {
        const rev = reversalRequest(original, {
          mti,
          stan: link.nextStan(),
          transmissionTime: VisaLinkClient.transmissionTime(),
          ...(values.partial ? { replacementMinor: Number(values.partial) } : {}),
          ...(values.reason ? { reasonCode: values.reason } : {}),
        })
        const r = await link.send(rev)
        const a = answerOf(r.message, r.latencyMs, rev)
        out(`${a.mti} DE 39 ${a.de39} in ${a.latencyMs} ms (${mti} of STAN ${values.stan}, card …${card.pan.slice(-4)})`, a)
        return a.de39 === '00' || a.de39 === '25' ? 0 : 1
      } finally {
        await link.close()
      }
    }
    case 'advice': {
      const card = await cardOf(values)
      if (!card) {
        console.error('advice needs --reveal-url, or --pan and --expiry\n')
        console.error(USAGE)
        return 2
      }
      const link = await VisaLinkClient.connect({ host: values.host, port })
      try {
        const adv = stipAdvice(card, {
          amountMinor: Number(values.amount),
          currency: values.currency,
          mcc: values.mcc,
          country: values.country,
          stan: link.nextStan(),
          transmissionTime: VisaLinkClient.transmissionTime(),
          de39: values.de39,
          stipReason: values['stip-reason'],
        })
        const r = await link.send(adv)
        const a = answerOf(r.message, r.latencyMs, adv)
        out(`${a.mti} DE 39 ${a.de39} in ${a.latencyMs} ms (0120, STIP answered ${values.de39}, card …${card.pan.slice(-4)})`, a)
        return a.de39 === '00' ? 0 : 1
      } finally {
        await link.close()
      }
    }
    case 'demo': {
      const report = await runDemo({
        port,
        host: values.host,
        programId: values.program,
        keys: devKeys(),
        ...(devLink ? { zpkName: devLink.zpkName } : {}),
        log: (m) => {
          if (!values.json) console.error(m)
        },
      })
      if (values.json) {
        console.log(JSON.stringify({ countsByDe39: report.countsByDe39, countsByReason: report.countsByReason, latencyMs: report.latencyMs, allAsExpected: report.allAsExpected, skipped: report.skipped, rows: report.rows }))
      } else {
        const head = ['scenario', 'reason', 'expected', 'DE 39', 'ms', '']
        const lines = report.rows.map((r) => [r.scenario, r.reason, r.expected, r.de39, r.latencyMs.toFixed(1), r.ok ? 'ok' : 'UNEXPECTED'])
        const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
        for (const l of [head, ...lines]) console.log(l.map((c, i) => c.padEnd(widths[i]!)).join('  '))
        const p = report.latencyMs
        console.log(`\nby DE 39: ${JSON.stringify(report.countsByDe39)}\nlatency ms: p50 ${p.p50}  p99 ${p.p99}  max ${p.max}`)
        if (report.skipped.length) console.log(`skipped: ${report.skipped.join(', ')}`)
      }
      return report.allAsExpected ? 0 : 1
    }
    default:
      console.error(USAGE)
      return command === 'help' || command === undefined ? 0 : 2
  }
}

/** The card from --reveal-url, or --pan/--expiry(/--cvv2); undefined when neither is given. */
async function cardOf(values: { 'reveal-url'?: string | undefined; pan?: string | undefined; expiry?: string | undefined; cvv2?: string | undefined }): Promise<SimCard | undefined> {
  if (values['reveal-url']) {
    const r = await fetchReveal(values['reveal-url'])
    return { pan: r.pan, expiry: yymm(r), cvv2: r.cvv2 }
  }
  if (values.pan && values.expiry) return { pan: values.pan, expiry: values.expiry, ...(values.cvv2 ? { cvv2: values.cvv2 } : {}) }
  return undefined
}

/** The JSON shape of an answer to a reversal or advice. */
function answerOf(message: VisaMessage, latencyMs: number, request: VisaMessage): { mti: string; de39: string; request: string; stan: string; latencyMs: number } {
  return { mti: message.mti, de39: String(message.fields['39']), request: request.mti, stan: String(request.fields['11']), latencyMs: Math.round(latencyMs * 100) / 100 }
}
