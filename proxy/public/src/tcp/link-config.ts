import { Type, type Static } from '@sinclair/typebox'

/**
 * One scheme link the public proxy listens for (config `PUBLIC_LINKS`, a JSON array). Only the DMZ has
 * internet ports; the zone map lists them (`internet.ingress`).
 */
export const LinkListenerSchema = Type.Object(
  {
    /** Link name; frames are forwarded to `processor POST /v1/links/<name>/frames`. */
    name: Type.String({ pattern: '^[a-z0-9-]{1,32}$' }),
    scheme: Type.Literal('visa'),
    /** TCP port (0: ephemeral, tests). */
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Interface to bind (default 127.0.0.1). */
    host: Type.Optional(Type.String()),
    framing: Type.Literal('vmlh'),
    /** Peer IP addresses allowed to connect (the scheme's endpoints). Empty list: loopback only. */
    allowedPeers: Type.Array(Type.String(), { default: [] }),
    /** Optional TLS: PEM files for the server certificate and key. */
    tls: Type.Optional(Type.Object({ certFile: Type.String(), keyFile: Type.String() })),
    /** Largest frame payload in bytes (VMLH length); a larger announced length closes the connection. */
    maxFrameSize: Type.Integer({ minimum: 64, maximum: 65535, default: 8192 }),
    /** Longest time from the first byte of a frame to its last (slow or stalled frames close the connection). */
    readTimeoutMs: Type.Integer({ minimum: 10, default: 5000 }),
    /** A connection with no traffic at all (not even zero-length keep-alive polls) for this long is closed. */
    idleTimeoutMs: Type.Integer({ minimum: 100, default: 180_000 }),
    /** Most concurrent connections on this link. */
    maxConnections: Type.Integer({ minimum: 1, default: 16 }),
    /** Most messages in flight per connection; reading pauses above it (back-pressure on the scheme). */
    maxInFlight: Type.Integer({ minimum: 1, default: 512 }),
  },
  { additionalProperties: false },
)
/** One scheme link listener. */
export type LinkListenerConfig = Static<typeof LinkListenerSchema>

/** Loopback addresses, allowed when `allowedPeers` is empty (development). */
export const LOOPBACK = ['127.0.0.1', '::1', '::ffff:127.0.0.1']

/** The dev Visa link on the documented port 7400. */
export const DEV_VISA_LINK: LinkListenerConfig = {
  name: 'visa',
  scheme: 'visa',
  port: 7400,
  framing: 'vmlh',
  allowedPeers: [],
  maxFrameSize: 8192,
  readTimeoutMs: 5000,
  idleTimeoutMs: 180_000,
  maxConnections: 16,
  maxInFlight: 512,
}
