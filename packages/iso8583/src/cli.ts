/**
 * `cardplane iso8583` command: decode bytes to JSON (or a masked description) and encode JSON to hex.
 *
 *   iso8583 decode --spec <name|path.json> [--hex HEX] [--tlv] [--describe]
 *   iso8583 encode --spec <name|path.json>        (message JSON on stdin, hex on stdout)
 *   iso8583 specs                                  (list built-in specs)
 *
 * Without --hex, decode reads raw bytes from stdin.
 */
import { parseArgs } from 'node:util'
import { describe } from './describe.js'
import { Iso8583Error } from './errors.js'
import { toHex } from './io.js'
import type { Iso8583Spec } from './message.js'
import { messageFromJson, messageToJson } from './json.js'
import { BUILTIN_SPECS, getSpec, loadSpecFile } from './specs.js'
import { decodeTlv, type TlvNode } from './tlv.js'

/** Where the CLI reads and writes (injected for tests). */
export interface CliIo {
  readStdin(): Promise<Buffer>
  stdout(text: string): void
  stderr(text: string): void
}

/** Process stdio. */
export const processIo: CliIo = {
  async readStdin() {
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    return Buffer.concat(chunks)
  },
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
}

const USAGE = `usage:
  cardplane iso8583 decode --spec <name|path.json> [--hex HEX] [--tlv] [--describe]
  cardplane iso8583 encode --spec <name|path.json>   (reads message JSON from stdin)
  cardplane iso8583 specs
built-in specs: ${BUILTIN_SPECS.join(', ')}
`

function resolveSpec(s: string): Iso8583Spec {
  return s.endsWith('.json') || s.includes('/') ? loadSpecFile(s) : getSpec(s)
}

type TlvJson = { tag: string; value?: string; children?: TlvJson[]; opaque?: true }
function tlvJson(nodes: readonly TlvNode[]): TlvJson[] {
  return nodes.map((n) => {
    const o: TlvJson = { tag: n.tag }
    if (n.children) o.children = tlvJson(n.children)
    else if (n.value) o.value = toHex(n.value)
    if (n.opaque) o.opaque = true
    return o
  })
}

/** Run the command; returns the exit code (0 ok, 1 codec error, 2 usage). */
export async function runIso8583Cli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv
  let values: { spec?: string; hex?: string; tlv?: boolean; describe?: boolean; help?: boolean }
  try {
    ;({ values } = parseArgs({
      args: rest,
      options: { spec: { type: 'string' }, hex: { type: 'string' }, tlv: { type: 'boolean' }, describe: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }))
  } catch (e) {
    io.stderr(`${(e as Error).message}\n${USAGE}`)
    return 2
  }
  if (command === 'specs') {
    io.stdout(BUILTIN_SPECS.join('\n') + '\n')
    return 0
  }
  if ((command !== 'decode' && command !== 'encode') || values.help || !values.spec) {
    ;(values.help ? io.stdout : io.stderr)(USAGE)
    return values.help ? 0 : 2
  }
  try {
    const spec = resolveSpec(values.spec)
    if (command === 'decode') {
      let bytes: Buffer
      if (values.hex !== undefined) {
        const h = values.hex.replace(/\s+/g, '')
        if (!/^([0-9A-Fa-f]{2})*$/.test(h)) {
          io.stderr('error: --hex is not valid hexadecimal\n')
          return 2
        }
        bytes = Buffer.from(h, 'hex')
      } else bytes = await io.readStdin()
      const msg = spec.decode(bytes)
      if (values.describe) {
        io.stdout(describe(spec, msg, { tlv: values.tlv === true }) + '\n')
        return 0
      }
      const out: Record<string, unknown> = messageToJson(msg)
      if (values.tlv) {
        const tlv: Record<string, TlvJson[] | { error: string }> = {}
        for (const k of Object.keys(msg.fields)) {
          const def = spec.fields[Number(k)]?.def
          const v = msg.fields[k]
          if (!def?.tlv || !(v instanceof Uint8Array)) continue
          try {
            tlv[k] = tlvJson(decodeTlv(v.subarray(def.tlv.offset ?? 0), k))
          } catch (e) {
            tlv[k] = { error: e instanceof Iso8583Error ? e.code : 'error' }
          }
        }
        out.tlv = tlv
      }
      io.stdout(JSON.stringify(out, null, 2) + '\n')
      return 0
    }
    const text = (await io.readStdin()).toString('utf8')
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      io.stderr('error: stdin is not valid JSON\n')
      return 2
    }
    io.stdout(toHex(spec.encode(messageFromJson(json))) + '\n')
    return 0
  } catch (e) {
    if (e instanceof Iso8583Error) {
      io.stderr(`error: ${e.message}\n`)
      return 1
    }
    if (e instanceof TypeError) {
      io.stderr(`error: ${e.message}\n`)
      return 2
    }
    throw e
  }
}
