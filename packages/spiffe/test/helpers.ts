import { createHmac, randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { CompactSign, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose'

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

/** A test-owned JWT-SVID issuer: its own key pair and a bundle entry for it. */
export interface TestIssuer {
  kid: string
  alg: string
  privateKey: SigningKey
  publicJwk: JWK
  bundleKey: JWK
}

export async function makeIssuer(alg = 'ES256', use = 'jwt-svid'): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}) })
  const publicJwk = await exportJWK(publicKey)
  const kid = randomBytes(12).toString('base64url')
  return { kid, alg, privateKey, publicJwk, bundleKey: { ...publicJwk, kid, use } }
}

export function jwks(...issuers: TestIssuer[]): JSONWebKeySet {
  return { keys: issuers.map((i) => i.bundleKey) }
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')

/** Sign any header/payload with an issuer's key (jose does not police header contents). */
export async function sign(issuer: TestIssuer, payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg: issuer.alg, kid: issuer.kid, typ: 'JWT', ...header })
    .sign(issuer.privateKey)
}

/** Assemble a token by hand (for alg none, HMAC confusion and forged signatures). */
export function assemble(header: Record<string, unknown>, payload: Record<string, unknown>, signature: Buffer | ((input: string) => Buffer)): string {
  const input = `${b64(header)}.${b64(payload)}`
  const sig = typeof signature === 'function' ? signature(input) : signature
  return `${input}.${sig.toString('base64url')}`
}

export function hmac(secret: string | Buffer, input: string): Buffer {
  return createHmac('sha256', secret).update(input).digest()
}

/** Collects pino JSON lines written by a fastify logger. */
export function logCapture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'))
      cb()
    },
  })
  const text = (): string => chunks.join('')
  const lines = (): Record<string, unknown>[] =>
    text()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  return { stream, lines, text }
}
