/**
 * TLS material of the reveal page. Production mounts a real certificate (PUBLIC_REVEAL_TLS_CERT/KEY);
 * development generates a self-signed one at start with the `openssl` CLI: no extra npm dependency to
 * audit in the DMZ, the same tool operators already use, and the private key is written once with mode
 * 0600 into a directory of this machine and never leaves it.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** PEM certificate and key. */
export interface TlsMaterial {
  cert: Buffer
  key: Buffer
}

/** Load configured PEM files, or make (and reuse) a self-signed localhost certificate in `dir`. */
export async function revealTls(opts: { certFile?: string; keyFile?: string; dir: string }): Promise<TlsMaterial> {
  if (opts.certFile && opts.keyFile) return { cert: await readFile(opts.certFile), key: await readFile(opts.keyFile) }
  await mkdir(opts.dir, { recursive: true, mode: 0o700 })
  const certFile = join(opts.dir, 'reveal-cert.pem')
  const keyFile = join(opts.dir, 'reveal-key.pem')
  const fresh = await stat(certFile).then(
    (s) => Date.now() - s.mtimeMs < 20 * 24 * 3600 * 1000,
    () => false,
  )
  if (!fresh) {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', keyFile, '-out', certFile,
    ])
  }
  return { cert: await readFile(certFile), key: await readFile(keyFile) }
}
