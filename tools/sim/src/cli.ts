import { parseArgs } from 'node:util'
import { authorizationRequest, type AuthKind, type SimCard } from './card-messages.js'
import { runDemo } from './demo.js'
import { devKeys, fetchReveal, readDevLink, yymm } from './dev-platform.js'
import { VisaLinkClient } from './visa-link-client.js'

const USAGE = `usage: pnpm cardplane sim <command> [options]

commands:
  signon | echo | signoff      0800 network management (DE 70 071 / 301 / 072)
  auth                         send one 0100 and print the answer
  demo                         issue cards, fund them, run approvals and every decline; summary table

link options:   --host 127.0.0.1  --port 7400 (the dev Visa link)  --json
auth options:   --reveal-url <one-time reveal JSON URL>   (card details the way a cardholder gets them)
                or --pan <digits> --expiry <YYMM> [--cvv2 <digits>]
                --kind ecommerce|chip|pin  --amount <minor units>  --currency EUR  --mcc 5411  --country DE
                --pin <digits> (kind pin: the PIN block is built under the link's dev ZPK from pnpm start)
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
      let card: SimCard
      if (values['reveal-url']) {
        const r = await fetchReveal(values['reveal-url'])
        card = { pan: r.pan, expiry: yymm(r), cvv2: r.cvv2 }
      } else if (values.pan && values.expiry) {
        card = { pan: values.pan, expiry: values.expiry, ...(values.cvv2 ? { cvv2: values.cvv2 } : {}) }
      } else {
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
        out(`0110 DE 39 ${de39}${typeof approval === 'string' ? ` approval ${approval}` : ''} in ${a.latencyMs.toFixed(1)} ms (card …${card.pan.slice(-4)})`, {
          mti: a.message.mti,
          de39,
          approvalCode: typeof approval === 'string' ? approval : undefined,
          stan: msg.fields['11'],
          lastFour: card.pan.slice(-4),
          latencyMs: Math.round(a.latencyMs * 100) / 100,
        })
        return 0
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
