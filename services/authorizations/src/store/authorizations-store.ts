import { and, eq, inArray } from 'drizzle-orm'
import type { PipelinedTransaction, Statement } from '@cardplane/pg-kit'
import type { AuthorizationRequest, Decision } from '@cardplane/contracts'
import { authorizations, programs, cards } from '../db/schema.js'
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

/** The card columns a decision reads (the drizzle row, or the hot path's aliased plain-SQL row). */
type CardColumns = Pick<typeof cards.$inferSelect, 'cardId' | 'accountId' | 'programId' | 'status' | 'currency' | 'controls'>

function toCardState(row: CardColumns): CardState {
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

interface FactsRow {
  prior: { cardId: string; decision: Decision } | null
  early: boolean
  dup: boolean
  program_controls: SpendControls | null
  usage_day: string
  usage_month: string
}

// Plain SQL on the hot path (no query builder per call); the texts are constant, so pg-kit prepares them.
// Columns aliased to the drizzle row's names, so one mapping (toCardState) serves both.
const LOCK_CARD = `select card_id as "cardId", account_id as "accountId", program_id as "programId", status, currency, controls
  from cards where card_id = $1 for update`

// $1 authorization id, $2 card id, $3 network key, $4 start of the UTC day, $5 start of the UTC month.
const DECISION_FACTS = `
  select
    (select jsonb_build_object('cardId', p.card_id, 'decision', p.decision)
       from authorizations p where p.authorization_id = $1) as prior,
    exists(select 1 from reversals r where r.original_authorization_id = $1 and r.kind = 'full') as early,
    exists(select 1 from authorizations d where d.card_id = $2 and d.network_key = $3
       and d.authorization_id <> $1) as dup,
    (select g.controls from programs g join cards c on c.program_id = g.program_id where c.card_id = $2) as program_controls,
    coalesce((select u.amount_minor from card_usage u where u.card_id = $2 and u.period = 'day'
       and u.period_start = $4::date), 0) as usage_day,
    coalesce((select u.amount_minor from card_usage u where u.card_id = $2 and u.period = 'month'
       and u.period_start = $5::date), 0) as usage_month`

/**
 * Start the decision's transaction: lock the card row, then read in a second statement everything else
 * the decision needs from this database: a stored decision for the id (replay), an early reversal, a
 * network duplicate, the program's controls and the period usage. `BEGIN` and both statements go out in
 * one write (pipeline mode, see pg-kit) and come back in one read. They must stay two statements: in READ
 * COMMITTED a statement's snapshot is taken when it starts, so subqueries in the statement that waited for
 * the lock would not see what the previous lock holder committed (a concurrent duplicate's decision, its
 * amount in the daily usage). The facts statement starts only after the lock statement has finished, so it
 * does see them. It finds the program through the card row, which the lock keeps as the lock read it.
 */
export async function lockCardForDecision(tx: PipelinedTransaction, request: AuthorizationRequest, now: Date): Promise<LockedDecisionState> {
  const id = request.authorizationId
  const { day, month } = periodStarts(now)
  const [locked, facts] = await tx.run(
    { text: LOCK_CARD, values: [request.cardId] },
    { text: DECISION_FACTS, values: [id, request.cardId, networkKey(request), utcDate(day), utcDate(month)] },
  )
  return toLockedState(locked!.rows[0] as CardColumns | undefined, facts!.rows[0] as FactsRow)
}

function toLockedState(c: CardColumns | undefined, row: FactsRow): LockedDecisionState {
  const prior = row.prior ?? undefined
  if (!c) {
    return {
      card: undefined,
      prior,
      facts: { earlyFullReversal: false, networkDuplicate: false, programControls: undefined, usage: { day: 0, month: 0 } },
    }
  }
  return {
    card: toCardState(c),
    prior,
    facts: {
      earlyFullReversal: row.early === true,
      networkDuplicate: row.dup === true,
      programControls: row.program_controls ?? undefined,
      usage: { day: Number(row.usage_day), month: Number(row.usage_month) },
    },
  }
}

const LOCK_CARDS = `select card_id as "cardId", account_id as "accountId", program_id as "programId", status, currency, controls
  from cards where card_id = any($1::text[]) order by card_id for update`

// DECISION_FACTS for several decisions at once: $1 authorisation ids, $2 card ids, $3 network keys (one
// row each, in order), $4 and $5 as there.
const DECISION_FACTS_MANY = `
  select
    (select jsonb_build_object('cardId', p.card_id, 'decision', p.decision)
       from authorizations p where p.authorization_id = i.id) as prior,
    exists(select 1 from reversals r where r.original_authorization_id = i.id and r.kind = 'full') as early,
    exists(select 1 from authorizations d where d.card_id = i.card and d.network_key = i.nk
       and d.authorization_id <> i.id) as dup,
    (select g.controls from programs g join cards c on c.program_id = g.program_id where c.card_id = i.card) as program_controls,
    coalesce((select u.amount_minor from card_usage u where u.card_id = i.card and u.period = 'day'
       and u.period_start = $4::date), 0) as usage_day,
    coalesce((select u.amount_minor from card_usage u where u.card_id = i.card and u.period = 'month'
       and u.period_start = $5::date), 0) as usage_month
  from unnest($1::text[], $2::text[], $3::text[]) with ordinality as i(id, card, nk, ord)
  order by i.ord`

/**
 * {@link lockCardForDecision} for a batch of decisions on distinct cards, in the same two statements:
 * the cards' row locks, taken in card-id order (two batches, or a batch and a single decision, never wait
 * on each other in a cycle), then every decision's facts. One state per request, in order.
 */
export async function lockCardsForDecisions(
  tx: PipelinedTransaction,
  requests: readonly AuthorizationRequest[],
  now: Date,
): Promise<LockedDecisionState[]> {
  const { day, month } = periodStarts(now)
  const [locked, facts] = await tx.run(
    { text: LOCK_CARDS, values: [requests.map((r) => r.cardId)] },
    {
      text: DECISION_FACTS_MANY,
      values: [requests.map((r) => r.authorizationId), requests.map((r) => r.cardId), requests.map(networkKey), utcDate(day), utcDate(month)],
    },
  )
  const cardsById = new Map((locked!.rows as CardColumns[]).map((c) => [c.cardId, c]))
  return requests.map((request, i) => toLockedState(cardsById.get(request.cardId), facts!.rows[i] as FactsRow))
}

function utcDate(d: Date): string {
  return d.toISOString().slice(0, 10)
}

const FIND_ORIGINAL = `select card_id, hold_id, outcome from authorizations where authorization_id = $1`

/** The original of an incremental authorisation (what the increment needs of it), in the decision's transaction. */
export async function findOriginal(
  tx: PipelinedTransaction,
  authorizationId: string,
): Promise<Pick<AuthorizationRow, 'cardId' | 'holdId' | 'outcome'> | undefined> {
  const [r] = await tx.run({ text: FIND_ORIGINAL, values: [authorizationId] })
  const row = r!.rows[0] as { card_id: string; hold_id: string | null; outcome: string } | undefined
  return row ? { cardId: row.card_id, holdId: row.hold_id, outcome: row.outcome } : undefined
}

const INSERT_AUTHORIZATION = `insert into authorizations (authorization_id, card_id, message_class, source, outcome, reason,
  currency, requested_minor, approved_minor, hold_id, original_authorization_id, network_key, decision, decided_at, updated_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`

/** The row of a decision, in INSERT_AUTHORIZATION's order ($1..$13; the time is added by the statement's caller). */
function authorizationValues(request: AuthorizationRequest, decision: Decision): unknown[] {
  return [
    request.authorizationId,
    request.cardId,
    request.messageClass,
    decision.source,
    decision.outcome,
    decision.outcome === 'decline' ? decision.reason : null,
    request.amounts.cardholderBilling.currency,
    request.amounts.cardholderBilling.minor,
    decision.outcome === 'decline' ? 0 : decision.approvedAmount.minor,
    decision.holdId ?? null,
    request.originalAuthorizationId ?? null,
    networkKey(request),
    JSON.stringify(decision),
  ]
}

/** The statement inserting the authorisation row of a decision (what {@link insertAuthorization} writes). */
export function insertAuthorizationStatement(request: AuthorizationRequest, decision: Decision, now: Date): Statement {
  return { text: INSERT_AUTHORIZATION, values: [...authorizationValues(request, decision), now.toISOString()] }
}

const INSERT_AUTHORIZATIONS = `insert into authorizations (authorization_id, card_id, message_class, source, outcome, reason,
  currency, requested_minor, approved_minor, hold_id, original_authorization_id, network_key, decision, decided_at, updated_at)
  select a, c, mc, s, o, r, cur, req, app, h, orig, nk, d::jsonb, $14, $14
  from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
    $10::text[], $11::text[], $12::text[], $13::text[]) as t(a, c, mc, s, o, r, cur, req, app, h, orig, nk, d)`

/** One statement inserting the rows of several decisions (a decision batch), all decided at `now`. */
export function insertAuthorizationsStatement(rows: readonly { request: AuthorizationRequest; decision: Decision }[], now: Date): Statement {
  const columns: unknown[][] = Array.from({ length: 13 }, () => [])
  for (const { request, decision } of rows) authorizationValues(request, decision).forEach((v, i) => columns[i]!.push(v))
  return { text: INSERT_AUTHORIZATIONS, values: [...columns, now.toISOString()] }
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
