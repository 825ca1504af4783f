/**
 * Issuing cards from the main cluster: open (or reuse) the customer's ledger account, ask the CDE
 * (through proxy-internal) for cards, remember them by card ID, and register each card's state with
 * authorizations so it can be decided on. The CDE answer carries no PAN (the proxy's PAN guard
 * would block it anyway).
 */
import { NotFoundError, type ServiceClient } from '@cardplane/service-kit'
import type { CardRecord, CardStore } from '../store/card-store.js'
import { toCdeProgram, type Program } from './programs.js'

/** Clients the issuance talks to. */
export interface IssuanceClients {
  /** proxy-internal (for the processor's CDE API). */
  cde: ServiceClient
  ledger: ServiceClient
  /** undefined: do not register card state (tests of cards alone). */
  authorizations?: ServiceClient
}

/** An issue request. */
export interface IssueRequest {
  programId: string
  customerId: string
  /** Existing ledger account; default: the customer's account in the program currency. */
  accountId?: string
  count: number
  cardholderName?: string
}

interface CdeIssued {
  cardId: string
  lastFour: string
  bin: string
  expiryMonth: number
  expiryYear: number
}

/** Ledger account ID for a customer and currency (stable, so repeats reuse the account). */
export function defaultAccountId(customerId: string, currency: string): string {
  return `acct_${customerId}_${currency.toLowerCase()}`
}

/** Issue cards; returns the stored records. */
export async function issueCards(
  programs: ReadonlyMap<string, Program>,
  store: CardStore,
  clients: IssuanceClients,
  req: IssueRequest,
): Promise<CardRecord[]> {
  const program = programs.get(req.programId)
  if (!program) throw new NotFoundError('program_unknown', { publicMessage: 'unknown program' })
  const accountId = req.accountId ?? defaultAccountId(req.customerId, program.currency)
  // Opening with a chosen id is idempotent in the ledger (a repeat returns the account).
  await clients.ledger.request({ method: 'POST', path: '/v1/accounts', body: { id: accountId, currency: program.currency } })
  const res = await clients.cde.request<{ cards: CdeIssued[] }>({
    method: 'POST',
    path: '/v1/cde/cards',
    body: { program: toCdeProgram(program), count: req.count, ...(req.cardholderName ? { cardholderName: req.cardholderName } : {}) },
    timeoutMs: 20_000,
  })
  const records = res.body.cards.map((c) => ({
    cardId: c.cardId,
    programId: program.id,
    customerId: req.customerId,
    accountId,
    lastFour: c.lastFour,
    bin: c.bin,
    expiryMonth: c.expiryMonth,
    expiryYear: c.expiryYear,
    status: 'active',
  }))
  await store.insertMany(records)
  const auth = clients.authorizations
  if (auth) {
    await Promise.all(
      records.map((c) =>
        auth.request({
          method: 'PUT',
          path: `/v1/cards/${c.cardId}`,
          body: { accountId, programId: program.id, status: 'active', currency: program.currency },
        }),
      ),
    )
  }
  const now = new Date().toISOString()
  return records.map((r) => ({ ...r, manufacturingStatus: null, createdAt: now }))
}
