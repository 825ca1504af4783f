/**
 * The processor's CDE API towards the main cluster (via proxy-internal) and the reveal page (via
 * proxy-public). Every route forwards to the card vault; the processor holds nothing.
 */
import type { FastifyInstance } from 'fastify'
import { registerCdeAdmin } from './cde-admin.js'
import type { CdeApiDeps } from './cde-forward.js'
import { registerCdeGetCard } from './cde-get-card.js'
import { registerCdeIssueCard } from './cde-issue-card.js'
import { registerCdeRedeem } from './cde-redeem.js'
import { registerCdeSessions } from './cde-sessions.js'

export type { CdeApiDeps } from './cde-forward.js'

/** Register every CDE API route. */
export function registerCdeRoutes(app: FastifyInstance, deps: CdeApiDeps): void {
  registerCdeIssueCard(app, deps)
  registerCdeGetCard(app, deps)
  registerCdeSessions(app, deps)
  registerCdeRedeem(app, deps)
  registerCdeAdmin(app, deps)
}
