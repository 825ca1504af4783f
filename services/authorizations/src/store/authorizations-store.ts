import { and, eq, inArray, sql } from 'drizzle-orm'
import type { AuthorizationRequest, Decision } from '@cardplane/contracts'
import { authorizations, cardUsage, programs, cards, reversals } from '../db/schema.js'
import type { CardState, CardStatus, SpendControls } from '../domain/card-state.js'
import type { PeriodUsage } from '../domain/checks.js'
import { periodStarts } from '../domain/checks.js'
import type { Queryable, Tx } from './tx.js'

/** A stored authorisation row. */
export type AuthorizationRow = typeof authorizations.$inferSelect
/** Values to insert for an authorisation row. */
export type NewAuthorizationRow = typeof authorizations.$inferInsert

/** The network identity of a message: the same physical message under two authorizationIds is a duplicate. */
export function networkKey(request: Pick<AuthorizationRequest, 'network'>): string {
  const n = request.network
  return [n.scheme, n.acquirerId, n.stan, n.transmissionTime].join('|')
}

function toCardState(row: typeof cards.$inferSelect): CardState {
  return {
    cardId: row.cardId,
    accountId: row.accountId,
    programId: row.programId,
    status: row.status as CardStatus,
    currency: row.currency,
    ...(row.controls ? { controls: row.controls } : {}),
  }
}

/** Upsert the card's authorisation state (from `cards`). */
export async function upsertCard(db: Queryable, card: CardState, now: Date): Promise<CardState> {
  const set = {
    accountId: card.accountId,
    programId: card.programId,
    status: card.status,
    currency: card.currency,
    controls: card.controls ?? null,
    updatedAt: now,
  }
  const [row] = await db
    .insert(cards)
    .values({ cardId: card.cardId, ...set })
    .onConflictDoUpdate({ target: cards.cardId, set })
    .returning()
  return toCardState(row!)
}

/** A card, read without locking. */
export async function findCard(db: Queryable, cardId: string): Promise<CardState | undefined> {
  const [row] = await db.select().from(cards).where(eq(cards.cardId, cardId))
  return row ? toCardState(row) : undefined
}

/**
 * Lock the card row for the rest of the transaction: serialises every decision, advice and reversal of
 * this card (limits, duplicates, late-decision reconciliation). Undefined if the card is unknown.
 */
export async function lockCard(tx: Tx, cardId: string): Promise<CardState | undefined> {
  const [row] = await tx.select().from(cards).where(eq(cards.cardId, cardId)).for('update')
  return row ? toCardState(row) : undefined
}

/** Upsert a program's spend controls. */
export async function upsertProgram(db: Queryable, programId: string, controls: SpendControls, now: Date): Promise<void> {
  await db
    .insert(programs)
    .values({ programId, controls, updatedAt: now })
    .onConflictDoUpdate({ target: programs.programId, set: { controls, updatedAt: now } })
}

/** A program's spend controls, if any were set. */
export async function programControls(db: Queryable, programId: string): Promise<SpendControls | undefined> {
  const [row] = await db.select().from(programs).where(eq(programs.programId, programId))
  return row?.controls
}

/** An authorisation by id. */
export async function findAuthorization(db: Queryable, authorizationId: string): Promise<AuthorizationRow | undefined> {
  const [row] = await db.select().from(authorizations).where(eq(authorizations.authorizationId, authorizationId))
  return row
}

/** Incremental authorisations approved on top of an original (they share its hold). */
export async function findIncrements(db: Queryable, originalAuthorizationId: string): Promise<AuthorizationRow[]> {
  return db
    .select()
    .from(authorizations)
    .where(
      and(
        eq(authorizations.originalAuthorizationId, originalAuthorizationId),
        eq(authorizations.messageClass, 'incremental'),
        inArray(authorizations.outcome, ['approve', 'partial']),
      ),
    )
}

/** Facts a decision needs besides the card, read with the card lock in one round trip. */
export interface DecisionFacts {
  /** A full reversal of this authorizationId arrived before it. */
  earlyFullReversal: boolean
  /** Another authorizationId of this card carries the same network message. */
  networkDuplicate: boolean
  /** The card program's spend controls, if set. */
  programControls: SpendControls | undefined
  /** Approved spend of the card (net of reversals) in the current UTC day and month. */
  usage: PeriodUsage
}

/** What {@link lockCardForDecision} read. */
export interface LockedDecisionState {
  /** Undefined when the card is unknown (nothing was locked). */
  card: CardState | undefined
  /** The decision already stored for this authorizationId, with the card it was for. */
  prior: { cardId: string; decision: Decision } | undefined
  facts: DecisionFacts
}

interface FactsRow extends Record<string, unknown> {
  prior: { cardId: string; decision: Decision } | null
  early: boolean
  dup: boolean
  program_controls: SpendControls | null
  usage_day: string
  usage_month: string
}

/**
 * Lock the card row, then read in one statement everything else the decision needs from this database:
 * a stored decision for the id (replay), an early reversal, a network duplicate, the program's controls
 * and the period usage. Two round trips instead of six on the hot path. They must stay two: in READ
 * COMMITTED a statement's snapshot is taken when it starts, so subqueries in the statement that waited
 * for the lock would not see what the previous lock holder committed (a concurrent duplicate's decision,
 * its amount in the daily usage).
 */
export async function lockCardForDecision(tx: Tx, request: AuthorizationRequest, now: Date): Promise<LockedDecisionState> {
  const id = request.authorizationId
  const card = await lockCard(tx, request.cardId)
  if (!card) {
    const prior = await findAuthorization(tx, id)
    return {
      card: undefined,
      prior: prior ? { cardId: prior.cardId, decision: prior.decision } : undefined,
      facts: { earlyFullReversal: false, networkDuplicate: false, programControls: undefined, usage: { day: 0, month: 0 } },
    }
  }
  const { day, month } = periodStarts(now)
  const a = authorizations
  const u = cardUsage
  const result = await tx.execute<FactsRow>(sql`
    select
      (select jsonb_build_object('cardId', p.card_id, 'decision', p.decision)
         from ${a} p where p.authorization_id = ${id}) as prior,
      exists(select 1 from ${reversals} r where r.original_authorization_id = ${id} and r.kind = 'full') as early,
      exists(select 1 from ${a} d where d.card_id = ${card.cardId} and d.network_key = ${networkKey(request)}
         and d.authorization_id <> ${id}) as dup,
      (select g.controls from ${programs} g where g.program_id = ${card.programId}) as program_controls,
      coalesce((select ${u.amountMinor} from ${u} where ${u.cardId} = ${card.cardId} and ${u.period} = 'day'
         and ${u.periodStart} = ${utcDate(day)}), 0) as usage_day,
      coalesce((select ${u.amountMinor} from ${u} where ${u.cardId} = ${card.cardId} and ${u.period} = 'month'
         and ${u.periodStart} = ${utcDate(month)}), 0) as usage_month
  `)
  const row = result.rows[0]!
  return {
    card,
    prior: row.prior ?? undefined,
    facts: {
      earlyFullReversal: row.early === true,
      networkDuplicate: row.dup === true,
      programControls: row.program_controls ?? undefined,
      usage: { day: Number(row.usage_day), month: Number(row.usage_month) },
    },
  }
}

function utcDate(d: Date): string {
  return d.toISOString().slice(0, 10)
}

/** Insert an authorisation row for a decision. */
export async function insertAuthorization(
  db: Queryable,
  request: AuthorizationRequest,
  decision: Decision,
  now: Date,
): Promise<void> {
  const approved = decision.outcome === 'decline' ? 0 : decision.approvedAmount.minor
  await db.insert(authorizations).values({
    authorizationId: request.authorizationId,
    cardId: request.cardId,
    messageClass: request.messageClass,
    source: decision.source,
    outcome: decision.outcome,
    reason: decision.outcome === 'decline' ? decision.reason : null,
    currency: request.amounts.cardholderBilling.currency,
    requestedMinor: request.amounts.cardholderBilling.minor,
    approvedMinor: approved,
    holdId: decision.holdId ?? null,
    originalAuthorizationId: request.originalAuthorizationId ?? null,
    networkKey: networkKey(request),
    decision,
    decidedAt: now,
    updatedAt: now,
  })
}

/** Update an authorisation row in place. */
export async function updateAuthorization(
  db: Queryable,
  authorizationId: string,
  set: Partial<Omit<NewAuthorizationRow, 'authorizationId'>>,
): Promise<void> {
  await db.update(authorizations).set(set).where(eq(authorizations.authorizationId, authorizationId))
}
