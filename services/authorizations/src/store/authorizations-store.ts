import { and, eq, inArray, sql } from 'drizzle-orm'
import type { AuthorizationRequest, Decision } from '@cardplane/contracts'
import { authorizations, cards, programs, reversals } from '../db/schema.js'
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

/** Facts a decision needs besides the card, read in one round trip (under the card lock). */
export interface DecisionFacts {
  /** A full reversal of this authorizationId arrived before it. */
  earlyFullReversal: boolean
  /** Another authorizationId of this card carries the same network message. */
  networkDuplicate: boolean
  /** The card program's spend controls, if set. */
  programControls: SpendControls | undefined
}

/** Read the decision's facts in one statement: each is a scalar subquery over an indexed column. */
export async function decisionFacts(
  db: Queryable,
  request: Pick<AuthorizationRequest, 'authorizationId' | 'cardId' | 'network'>,
  programId: string,
): Promise<DecisionFacts> {
  const id = request.authorizationId
  const [row] = await db.execute<{ early: boolean; dup: boolean; controls: SpendControls | null }>(sql`
    select
      exists(select 1 from ${reversals} where ${reversals.originalAuthorizationId} = ${id} and ${reversals.kind} = 'full') as early,
      exists(select 1 from ${authorizations} where ${authorizations.cardId} = ${request.cardId}
        and ${authorizations.networkKey} = ${networkKey(request)} and ${authorizations.authorizationId} <> ${id}) as dup,
      (select ${programs.controls} from ${programs} where ${programs.programId} = ${programId}) as controls
  `).then((r) => r.rows)
  return {
    earlyFullReversal: row?.early === true,
    networkDuplicate: row?.dup === true,
    programControls: row?.controls ?? undefined,
  }
}

/** Approved spend of a card (net of reversals) in the current UTC day and month. */
export async function periodUsage(db: Queryable, cardId: string, now: Date): Promise<PeriodUsage> {
  const { day, month } = periodStarts(now)
  const net = sql<number>`${authorizations.approvedMinor} - ${authorizations.reversedMinor}`
  const [row] = await db
    .select({
      day: sql<string>`coalesce(sum(${net}) filter (where ${authorizations.decidedAt} >= ${day.toISOString()}), 0)`,
      month: sql<string>`coalesce(sum(${net}), 0)`,
    })
    .from(authorizations)
    .where(
      and(
        eq(authorizations.cardId, cardId),
        inArray(authorizations.outcome, ['approve', 'partial']),
        sql`${authorizations.decidedAt} >= ${month.toISOString()}`,
      ),
    )
  return { day: Number(row?.day ?? 0), month: Number(row?.month ?? 0) }
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
