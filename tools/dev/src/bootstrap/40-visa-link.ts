// Dev bootstrap for the Visa link (authorisation helper): a zone PIN key for the link entered by two dev
// custodians with a known clear value kept in the state dir for the scheme simulator (DEV ONLY, mode 0600:
// the simulator plays the acquirer, whose HSM holds the ZPK), then a sign-on over TCP to the link on the
// documented port 7400 to prove the path proxy-public → processor is up. Safe to run again.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import type { BootstrapContext } from '../bootstrap.js'
import { enterDevKey } from './10-keyvault.js'

/** The Visa link's TCP port on proxy-public in development (documented in proxy/public/README.md). */
export const VISA_LINK_PORT = 7400
/** The link's zone PIN key name (processor config PROCESSOR_LINKS default). */
export const LINK_ZPK_NAME = 'zpk-visa-link'
const KEYS_FILE = 'DEV-ONLY-visa-link-keys.json'

async function call(base: string, method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/v1/${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { 'x-vault-token': token } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  if (res.status >= 400) throw new Error(`keyvault ${method} ${path}: ${Array.isArray(parsed.errors) ? parsed.errors.join('; ') : res.status}`)
  return parsed
}

/** Sign on (0800, DE 70 = 071) over the link with a minimal BASE I frame; resolves with DE 39's bytes found. */
async function signOn(port: number): Promise<boolean> {
  // 0800: BCD MTI, bitmap with bits 7, 11 (primary) and 70 (secondary), DE 7, DE 11, DE 70 in BCD.
  const now = new Date()
  const p = (n: number) => String(n).padStart(2, '0')
  const de7 = `${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`
  const primary = Buffer.alloc(8)
  primary[0] = 0x80 | 0x02 // secondary bitmap present, DE 7
  primary[1] = 0x20 // DE 11
  const secondary = Buffer.alloc(8)
  secondary[0] = 0x04 // DE 70 (bit 6 of the secondary bitmap)
  const body = Buffer.concat([Buffer.from('0800', 'hex'), primary, secondary, Buffer.from(de7, 'hex'), Buffer.from('000071', 'hex'), Buffer.from('0071', 'hex')])
  const header = Buffer.alloc(22)
  header[0] = 22
  header[1] = 1
  header[2] = 2
  header.writeUInt16BE(22 + body.length, 3)
  header.write('400000', 5, 'hex')
  header.write('000001', 8, 'hex')
  const payload = Buffer.concat([header, body])
  const frame = Buffer.concat([Buffer.from([payload.length >> 8, payload.length & 0xff, 0, 0]), payload])
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    const timer = setTimeout(() => {
      s.destroy()
      resolve(false)
    }, 5000)
    let got = Buffer.alloc(0)
    s.on('connect', () => s.write(frame))
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d])
      if (got.length >= 4 && got.length >= 4 + got.readUInt16BE(0)) {
        clearTimeout(timer)
        s.destroy()
        // 0810 (BCD 08 10) right after the 22-byte header; DE 39 "00" in EBCDIC is F0 F0.
        const ok = got[26] === 0x08 && got[27] === 0x10 && got.includes(Buffer.from([0xf0, 0xf0]))
        resolve(ok)
      }
    })
    s.on('error', () => {
      clearTimeout(timer)
      resolve(false)
    })
  })
}

export default async function visaLink(ctx: BootstrapContext): Promise<void> {
  const base = ctx.urls.keyvault
  if (!base) throw new Error('no URL for keyvault')
  const shares = JSON.parse(await readFile(join(ctx.stateDir, 'keyvault', 'DEV-ONLY-keyvault-unseal-shares.json'), 'utf8')) as { root_token: string }
  const root = shares.root_token
  const dir = join(ctx.stateDir, 'visa-link')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const keysPath = join(dir, KEYS_FILE)
  const listed = await call(base, 'GET', 'keys?list=true', undefined, root)
  const names = ((listed.data as { keys?: string[] } | undefined)?.keys ?? []) as string[]
  if (!names.includes(LINK_ZPK_NAME)) {
    const clear = await enterDevKey(base, root, LINK_ZPK_NAME, 'zpk')
    const info = {
      warning: 'DEVELOPMENT ONLY. The clear ZPK of the dev Visa link, for the scheme simulator (it plays the acquirer). Production ZPKs never exist in clear outside an HSM.',
      port: VISA_LINK_PORT,
      zpkName: LINK_ZPK_NAME,
      zpk: clear,
    }
    await writeFile(keysPath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 })
    await chmod(keysPath, 0o600)
    ctx.log(`${LINK_ZPK_NAME} entered by two dev custodians; dev copy for the simulator in ${keysPath}`)
  } else {
    try {
      await readFile(keysPath, 'utf8')
    } catch {
      ctx.log(`${LINK_ZPK_NAME} exists but ${keysPath} is missing: PIN authorisations from the simulator will fail (drop the keyvault database to start over)`)
    }
  }
  const ok = await signOn(VISA_LINK_PORT)
  if (!ok) throw new Error(`no 0810 to a sign-on on 127.0.0.1:${VISA_LINK_PORT}: is proxy-public's Visa link up?`)
  ctx.log(`Visa link ready on 127.0.0.1:${VISA_LINK_PORT} (sign-on answered 00): try \`pnpm cardplane sim demo\``)
}
