import { randomBytes } from 'node:crypto'
import { chmod, mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet, type JWK } from 'jose'
import {
  JwtSvidError,
  loadWorkloadApi,
  parseSpiffeId,
  StaticBundleSource,
  toStruct,
  trustDomainId,
  validateJwtSvid,
  WORKLOAD_API_HEADER,
  WORKLOAD_API_HEADER_VALUE,
  type JwtBundlesResponseMsg,
  type JwtSvidRequestMsg,
  type JwtSvidResponseMsg,
  type ValidateJwtSvidRequestMsg,
  type ValidateJwtSvidResponseMsg,
} from '@cardplane/spiffe'

/** One workload the dev server gives an identity to. */
export interface DevSpiffeService {
  name: string
  spiffeId: string
}

/** Options for {@link startDevSpiffe}. */
export interface DevSpiffeOptions {
  /** Directory for the sockets (`<dir>/<name>.sock`); created with mode 0700 if missing. */
  dir: string
  trustDomain: string
  services: DevSpiffeService[]
  /** JWT-SVID lifetime in seconds (default 300). */
  svidTtlSec?: number
  /** Progress lines (never key material). */
  log?: (msg: string) => void
}

/** A running dev Workload API. */
export interface DevSpiffe {
  /** Filesystem path of a service's socket. */
  socketPath(name: string): string
  /** `unix://<path>`: the value for that service's SPIFFE_ENDPOINT_SOCKET. */
  endpoint(name: string): string
  /** The public JWKS (keys with `use: jwt-svid`) that FetchJWTBundles serves. */
  readonly trustBundle: JSONWebKeySet
  readonly trustDomain: string
  /** Close every socket and remove the socket files. */
  stop(): Promise<void>
}

/** Raised for a bad dev-spiffe setup (unknown service, socket path too long, ...). */
export class DevSpiffeError extends Error {
  readonly code = 'dev_spiffe_invalid'
  constructor(message: string) {
    super(message)
    this.name = 'DevSpiffeError'
  }
}

/** sun_path is 108 bytes on Linux and 104 on macOS, including the terminating NUL. */
const MAX_SOCKET_PATH = 103

function hasWorkloadHeader(call: { metadata: { get(key: string): unknown[] } }): boolean {
  return call.metadata.get(WORKLOAD_API_HEADER).some((v) => String(v) === WORKLOAD_API_HEADER_VALUE)
}

const missingHeader = {
  code: GrpcStatus.INVALID_ARGUMENT,
  details: 'security header missing from request',
}

/**
 * Start a development SPIFFE Workload API: one gRPC server per service, each on its own Unix socket,
 * so the socket a workload connects to decides its identity. JWT-SVIDs are signed with a per-run
 * ES256 key generated here as a non-extractable CryptoKey: it is never written, logged or returned.
 * X.509 RPCs answer UNIMPLEMENTED.
 */
export async function startDevSpiffe(options: DevSpiffeOptions): Promise<DevSpiffe> {
  const { trustDomain, services } = options
  const ttlSec = options.svidTtlSec ?? 300
  if (!Number.isInteger(ttlSec) || ttlSec < 1) throw new DevSpiffeError('svidTtlSec must be a positive integer')
  const dir = resolve(options.dir)
  const log = options.log ?? (() => undefined)
  const seen = new Set<string>()
  for (const s of services) {
    const id = parseSpiffeId(s.spiffeId)
    if (id.trustDomain !== trustDomain) throw new DevSpiffeError(`service ${s.name} is not in trust domain ${trustDomain}`)
    if (!/^[a-z0-9][a-z0-9-]*$/.test(s.name) || seen.has(s.name)) throw new DevSpiffeError(`bad or duplicate service name ${s.name}`)
    seen.add(s.name)
    const p = join(dir, `${s.name}.sock`)
    if (Buffer.byteLength(p) > MAX_SOCKET_PATH) {
      throw new DevSpiffeError(`socket path for ${s.name} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter dir`)
    }
  }

  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: false })
  const kid = randomBytes(16).toString('base64url')
  const pub = await exportJWK(publicKey)
  const bundleKey: JWK = { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid, use: 'jwt-svid', alg: 'ES256' }
  const trustBundle: JSONWebKeySet = { keys: [bundleKey] }
  const bundleBytes = Buffer.from(JSON.stringify(trustBundle))
  const bundleSource = new StaticBundleSource({ [trustDomain]: trustBundle })
  const { service } = loadWorkloadApi()

  await mkdir(dir, { recursive: true, mode: 0o700 })
  const servers: Server[] = []
  const paths = new Map<string, string>()
  try {
    for (const svc of services) {
      const path = join(dir, `${svc.name}.sock`)
      await rm(path, { force: true })
      const server = new Server()
      server.addService(service, handlersFor(svc))
      await new Promise<void>((ok, fail) =>
        server.bindAsync(`unix://${path}`, ServerCredentials.createInsecure(), (err) => (err ? fail(err) : ok())),
      )
      await chmod(path, 0o600)
      servers.push(server)
      paths.set(svc.name, path)
      log(`dev-spiffe: ${svc.spiffeId} on unix://${path}`)
    }
  } catch (err) {
    for (const s of servers) s.forceShutdown()
    throw err
  }

  function handlersFor(svc: DevSpiffeService): UntypedServiceImplementation {
    const unimplemented = (call: ServerWritableStream<unknown, unknown>): void => {
      call.emit('error', { code: GrpcStatus.UNIMPLEMENTED, details: 'dev-spiffe serves the JWT profile only' })
    }
    return {
      FetchX509SVID: unimplemented,
      FetchX509Bundles: unimplemented,
      FetchJWTSVID: (call: ServerUnaryCall<JwtSvidRequestMsg, JwtSvidResponseMsg>, cb: sendUnaryData<JwtSvidResponseMsg>) => {
        if (!hasWorkloadHeader(call)) return cb(missingHeader)
        const audience = call.request.audience ?? []
        if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a.length === 0)) {
          return cb({ code: GrpcStatus.INVALID_ARGUMENT, details: 'audience must be specified' })
        }
        // The socket is the identity: a workload may not ask for someone else's SVID.
        if (call.request.spiffe_id && call.request.spiffe_id !== svc.spiffeId) {
          return cb({ code: GrpcStatus.PERMISSION_DENIED, details: 'no identity issued for the requested SPIFFE ID' })
        }
        const now = Math.floor(Date.now() / 1000)
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
          .setSubject(svc.spiffeId)
          .setAudience(audience)
          .setIssuedAt(now)
          .setExpirationTime(now + ttlSec)
          .sign(privateKey)
          .then(
            (token) => cb(null, { svids: [{ spiffe_id: svc.spiffeId, svid: token, hint: '' }] }),
            () => cb({ code: GrpcStatus.INTERNAL, details: 'signing failed' }),
          )
      },
      FetchJWTBundles: (call: ServerWritableStream<Record<string, never>, JwtBundlesResponseMsg>) => {
        if (!hasWorkloadHeader(call)) {
          call.emit('error', missingHeader)
          return
        }
        // One message, then the stream stays open (the key never rotates within a run) until the
        // client cancels or the server stops.
        call.write({ bundles: { [trustDomainId(trustDomain)]: bundleBytes } })
      },
      ValidateJWTSVID: (
        call: ServerUnaryCall<ValidateJwtSvidRequestMsg, ValidateJwtSvidResponseMsg>,
        cb: sendUnaryData<ValidateJwtSvidResponseMsg>,
      ) => {
        if (!hasWorkloadHeader(call)) return cb(missingHeader)
        const { audience, svid } = call.request
        if (!audience) return cb({ code: GrpcStatus.INVALID_ARGUMENT, details: 'audience must be specified' })
        if (!svid) return cb({ code: GrpcStatus.INVALID_ARGUMENT, details: 'svid must be specified' })
        validateJwtSvid(svid, { audience, trustDomain, bundles: bundleSource }).then(
          (res) => cb(null, { spiffe_id: res.spiffeId, claims: toStruct(res.claims as Record<string, unknown>) }),
          (err: unknown) =>
            cb({
              code: GrpcStatus.INVALID_ARGUMENT,
              details: err instanceof JwtSvidError ? err.code : 'invalid token',
            }),
        )
      },
    }
  }

  let stopped = false
  const socketPath = (name: string): string => {
    const p = paths.get(name)
    if (!p) throw new DevSpiffeError(`no dev-spiffe socket for service ${name}`)
    return p
  }
  return {
    trustBundle,
    trustDomain,
    socketPath,
    endpoint: (name: string): string => `unix://${socketPath(name)}`,
    async stop(): Promise<void> {
      if (stopped) return
      stopped = true
      // Open FetchJWTBundles streams would keep a graceful shutdown waiting forever.
      for (const s of servers) s.forceShutdown()
      await Promise.all([...paths.values()].map((p) => rm(p, { force: true })))
    },
  }
}
