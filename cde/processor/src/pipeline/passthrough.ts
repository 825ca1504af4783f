import type { ServiceClient } from '@cardplane/service-kit'
import type { FrameResult } from './pipeline.js'
import type { LinkConfig } from './types.js'

/**
 * The benchmark floor: the frame crosses the same process hops as an authorisation (proxy-public →
 * processor → card-vault and → proxy-internal, each with its JWT-SVID) but nothing is decoded, checked or
 * decided: the hops call the callees' `/v1/probe` and the frame is sent back with the response MTI bit set.
 * Only for links configured `mode: passthrough` (load tests).
 */
export function passthroughHandler(deps: { cardVault: ServiceClient; proxyInternal: ServiceClient }): {
  handleFrame(link: LinkConfig, frame: Buffer): Promise<FrameResult>
} {
  return {
    async handleFrame(_link, frame) {
      await deps.cardVault.request({ method: 'GET', path: '/v1/probe' })
      await deps.proxyInternal.request({ method: 'GET', path: '/v1/probe' })
      const out = Buffer.from(frame)
      // BASE I header is 22 bytes, the BCD MTI follows: 0100 → 0110.
      if (out.length > 23 && out[0] === 22) out[23] = out[23]! | 0x10
      return { action: 'answer', frame: out }
    },
  }
}
