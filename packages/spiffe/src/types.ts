import type { JSONWebKeySet } from 'jose'

/** A JWT-SVID as handed out by the Workload API. */
export interface JwtSvid {
  /** SPIFFE ID the token asserts (its `sub`). */
  spiffeId: string
  /** The compact JWS. Never log it. */
  token: string
  expiresAt: Date
}

/** Something that can hand this workload JWT-SVIDs (the Workload API client). */
export interface JwtSvidSource {
  /** This workload's SPIFFE ID, once known (after the first successful fetch). */
  readonly spiffeId?: string
  /** A JWT-SVID for `audience` (the callee's SPIFFE ID); cached until about half its lifetime. */
  fetchJwtSvid(audience: string): Promise<JwtSvid>
}

/** JWT bundles (JWKS per trust domain) used to validate JWT-SVIDs. */
export interface JwtBundleSource {
  /** The JWKS for a trust domain name (e.g. `cardplane.dev`), or undefined when none is known. */
  getBundle(trustDomain: string): JSONWebKeySet | undefined
  /** Resolves once at least one bundle has been received. */
  ready(): Promise<void>
}

/** A fixed set of bundles: for tests and for callers that already hold the trust bundle. */
export class StaticBundleSource implements JwtBundleSource {
  private readonly bundles: Map<string, JSONWebKeySet>
  constructor(bundles: Record<string, JSONWebKeySet>) {
    this.bundles = new Map(Object.entries(bundles))
  }
  getBundle(trustDomain: string): JSONWebKeySet | undefined {
    return this.bundles.get(trustDomain)
  }
  ready(): Promise<void> {
    return Promise.resolve()
  }
}
