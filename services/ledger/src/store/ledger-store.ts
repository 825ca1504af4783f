import { randomUUID } from 'node:crypto'
import { and, eq, getTableColumns, lte, sql } from 'drizzle-orm'
import type pg from 'pg'
import { pipelinedTransaction, type PipelinedTransaction } from '@cardplane/pg-kit'
import type { Money } from '@cardplane/contracts'
import type { BatchOutcome } from '@cardplane/service-kit'
import type { LedgerDb } from '../db/client.js'
import { accounts, entries, holdOperations, holds } from '../db/schema.js'
import { checkRequested, planCapture, planHold, planRelease } from '../domain/holds.js'
import type { AccountView, CreditResult, HoldOperationResult, HoldView, PlaceHoldResult } from '../domain/views.js'
import {
  AccountConflictError,
  AccountNotFoundError,
  CurrencyMismatchError,
  HoldNotActiveError,
  HoldNotFoundError,
  IdempotencyConflictError,
} from '../errors.js'

type Tx = Parameters<Parameters<LedgerDb['transaction']>[0]>[0]
type AccountRow = typeof accounts.$inferSelect
type HoldRow = typeof holds.$inferSelect
/** An account row read under its lock, with whether a sweep of expired holds is needed. */
type LockedAccount = AccountRow & { holdsDue: boolean }
/** The same when placing a hold: also whether a hold for its authorisation existed when the statement started. */
type LockedForHold = LockedAccount & { priorHold: boolean }

/** A PostgreSQL unique violation (23505) of the named constraint. */
function isUniqueViolation(err: unknown, constraint: string): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const pgErr = e as { code?: unknown; constraint?: unknown }
    if (pgErr.code === '23505' && pgErr.constraint === constraint) return true
  }
  return false
}

/** Options of the ledger store. */
export interface LedgerStoreOptions {
  /** How long a hold counts against the balance before it expires (seconds). */
  holdTtlSeconds: number
  /** Clock (tests). */
  now?: () => Date
}

const m = (minor: number, currency: string): Money => ({ minor, currency })

function accountView(a: AccountRow): AccountView {
  return {
    id: a.id,
    currency: a.currency,
    balance: m(a.balanceMinor, a.currency),
    held: m(a.heldMinor, a.currency),
    available: m(a.balanceMinor - a.heldMinor, a.currency),
    createdAt: a.createdAt.toISOString(),
  }
}

function holdView(h: HoldRow): HoldView {
  return {
    id: h.id,
    authorizationId: h.authorizationId,
    accountId: h.accountId,
    status: h.status,
    amount: m(h.amountMinor, h.currency),
    requested: m(h.requestedMinor, h.currency),
    captured: m(h.capturedMinor, h.currency),
    released: m(h.releasedMinor, h.currency),
    forced: h.forced,
    expiresAt: h.expiresAt.toISOString(),
    createdAt: h.createdAt.toISOString(),
  }
}

/** Inputs of placeHold. */
export interface PlaceHoldInput {
  authorizationId: string
  accountId: string
  amount: Money
  allowPartial?: boolean
  force?: boolean
}

/** Inputs of incrementHold. */
export interface IncrementHoldInput {
  holdId: string
  incrementId: string
  amount: Money
  allowPartial?: boolean
  force?: boolean
}

/** A repeated hold request must match the hold it replays. */
function checkReplay(hold: HoldRow, input: PlaceHoldInput): void {
  if (
    hold.accountId !== input.accountId ||
    hold.currency !== input.amount.currency ||
    hold.requestedMinor < input.amount.minor
  ) {
    // requestedMinor grows with increments, so only a larger first amount is a real conflict.
    throw new IdempotencyConflictError('hold', input.authorizationId)
  }
}

/** An accounts row as pg returns it (bigint columns as strings). */
interface RawAccount {
  id: string
  currency: string
  balance_minor: string | number
  held_minor: string | number
  created_at: Date
  updated_at: Date
}

function accountFromRaw(r: RawAccount): AccountRow {
  return {
    id: r.id,
    currency: r.currency,
    balanceMinor: Number(r.balance_minor),
    heldMinor: Number(r.held_minor),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

/** A holds row as pg returns it, with its account's balance and held amount. */
interface RawHold {
  id: string
  authorization_id: string
  account_id: string
  currency: string
  requested_minor: string | number
  amount_minor: string | number
  captured_minor: string | number
  released_minor: string | number
  status: HoldRow['status']
  forced: boolean
  partial: boolean
  expires_at: Date
  created_at: Date
  updated_at: Date
  account_balance_minor: string | number
  account_held_minor: string | number
}

function holdFromRaw(r: RawHold): HoldRow {
  return {
    id: r.id,
    authorizationId: r.authorization_id,
    accountId: r.account_id,
    currency: r.currency,
    requestedMinor: Number(r.requested_minor),
    amountMinor: Number(r.amount_minor),
    capturedMinor: Number(r.captured_minor),
    releasedMinor: Number(r.released_minor),
    status: r.status,
    forced: r.forced,
    partial: r.partial,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

const ACCOUNT_COLUMNS = 'id, currency, balance_minor, held_minor, created_at, updated_at'

/**
 * Lock the account ($1) and learn in the same statement whether any of its active holds is due to expire
 * (at $2) and whether a hold for the authorisation ($3) exists. The subqueries' snapshot may predate the
 * lock wait; that is safe: a stale "due" only costs a sweep that finds nothing (holds only become due with
 * time, not through other writers), and a hold committed meanwhile by a concurrent duplicate makes the
 * insert fail on the unique authorization_id, after which placeHold runs again and replays it.
 */
const LOCK_ACCOUNT_FOR_HOLD = `select ${ACCOUNT_COLUMNS},
    exists(select 1 from holds h where h.account_id = $1 and h.status = 'active' and h.expires_at <= $2) as holds_due,
    exists(select 1 from holds h where h.authorization_id = $3) as prior_hold
  from accounts where id = $1 for update`

const SELECT_HOLD_BY_AUTHORIZATION = `select h.id, h.authorization_id, h.account_id, h.currency, h.requested_minor, h.amount_minor,
    h.captured_minor, h.released_minor, h.status, h.forced, h.partial, h.expires_at, h.created_at, h.updated_at,
    a.balance_minor as account_balance_minor, a.held_minor as account_held_minor
  from holds h join accounts a on a.id = h.account_id where h.authorization_id = $1`

/** Expire the account's ($1) due holds (at $2) and take them off its held amount; the account row after. */
const EXPIRE_DUE_HOLDS = `with expired as (
    update holds set status = 'expired', updated_at = $2
    where account_id = $1 and status = 'active' and expires_at <= $2
    returning amount_minor
  )
  update accounts set held_minor = held_minor - (select coalesce(sum(amount_minor), 0) from expired), updated_at = $2
  where id = $1 and exists(select 1 from expired)
  returning ${ACCOUNT_COLUMNS}`

/** Insert an active hold and raise its account's held amount by the hold's amount ($6), in one statement. */
const INSERT_HOLD_AND_RAISE_HELD = `with inserted as (
    insert into holds (id, authorization_id, account_id, currency, requested_minor, amount_minor, status, forced, partial,
      expires_at, created_at, updated_at)
    values ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $10)
  )
  update accounts set held_minor = held_minor + $6, updated_at = $10
  where id = $3
  returning held_minor`

/**
 * Place a fully funded (or forced) hold in one statement, or nothing: raise the account's held amount
 * only if its currency matches ($4), the hold is forced ($6) or `balance - held` covers it ($5), no hold
 * for the authorisation ($2) exists and none of the account's active holds is due to expire (at $8); insert
 * the hold only if the account was raised. The UPDATE takes the account's row lock and re-reads the row
 * after any lock wait, so the funds check is against the latest committed balance. The two `not exists`
 * read the statement's snapshot, as the lock statement of the general path does: a duplicate that
 * committed meanwhile makes the insert fail on the unique authorization_id (then placeHold replays it).
 * No row back means "take the general path" (partial, insufficient, replay, due holds, unknown account).
 */
const PLACE_FUNDED_HOLD = `with raised as (
    update accounts set held_minor = held_minor + $5, updated_at = $8
    where id = $3 and currency = $4 and ($6 or balance_minor - held_minor >= $5)
      and not exists(select 1 from holds h where h.account_id = $3 and h.status = 'active' and h.expires_at <= $8)
      and not exists(select 1 from holds h where h.authorization_id = $2)
    returning balance_minor, held_minor
  ), inserted as (
    insert into holds (id, authorization_id, account_id, currency, requested_minor, amount_minor, status, forced, partial,
      expires_at, created_at, updated_at)
    select $1, $2, $3, $4, $5, $5, 'active', $6, false, $7, $8, $8 from raised
  )
  select balance_minor, held_minor from raised`

/**
 * {@link PLACE_FUNDED_HOLD} for several holds at once, each on its own account and for its own
 * authorisation (the caller sees to both): the inputs arrive as arrays ($1 hold ids, $2 authorisation ids,
 * $3 accounts, $4 currencies, $5 amounts, $6 forced), $7 the holds' expiry and $8 now. The `locked` CTE
 * takes the accounts' row locks in id order, so two batches can never wait on each other in a cycle; the
 * UPDATE then re-reads each locked row as it stands and raises only the accounts whose funds, currency, due
 * holds and prior hold allow it, exactly as the one-hold statement does. One statement: all of it commits
 * or none. An account left out comes back without a row and takes the general path.
 *
 * The due-hold and prior-hold checks are per-input scalar LIMIT 1 probes: a due hold of the account (a
 * range on the partial index on (account_id, expires_at) that is empty unless a hold is due) and a hold for
 * the authorisation (the unique authorization_id). The prepared statement runs on a generic plan made from
 * the statistics of its first executions, when `holds` may be nearly empty (a new database, the
 * benchmark's). Written as `not exists` in the UPDATE, that plan hash-joined the whole table on every
 * execution; as `min(expires_at)` (or ordered by it) it read every active hold of the account through the
 * (account_id, status) index (auto_explain: 3,400 buffers for 31 holds). In this form the range index is
 * the cheaper plan whatever the statistics say. Both read the statement's snapshot, as before: holds only
 * become due with time, and a duplicate's hold committed meanwhile stops the insert on the unique
 * authorization_id.
 */
const PLACE_FUNDED_HOLDS = `with input as (
    select i.*,
      (select true from holds h where h.account_id = i.account_id and h.status = 'active' and h.expires_at <= $8
        limit 1) as due,
      (select true from holds h where h.authorization_id = i.authorization_id limit 1) as prior
    from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::boolean[])
      as i(hold_id, authorization_id, account_id, currency, amount, forced)
  ), locked as (
    select a.id from accounts a where a.id = any($3::text[]) order by a.id for update
  ), raised as (
    update accounts a set held_minor = a.held_minor + i.amount, updated_at = $8
    from locked l join input i on i.account_id = l.id
    where a.id = l.id and a.currency = i.currency and (i.forced or a.balance_minor - a.held_minor >= i.amount)
      and i.due is null and i.prior is null
    returning i.authorization_id, a.balance_minor, a.held_minor
  ), inserted as (
    insert into holds (id, authorization_id, account_id, currency, requested_minor, amount_minor, status, forced, partial,
      expires_at, created_at, updated_at)
    select i.hold_id, i.authorization_id, i.account_id, i.currency, i.amount, i.amount, 'active', i.forced, false, $7, $8, $8
    from input i join raised r on r.authorization_id = i.authorization_id
  )
  select authorization_id, balance_minor, held_minor from raised`

/**
 * Every money movement of the ledger. Each operation is one PostgreSQL transaction that first locks the
 * account row (`SELECT ... FOR UPDATE`): operations on one account are serialised, operations on different
 * accounts run in parallel. Idempotency keys are unique in the database, so even a race that slips past
 * the replay checks fails instead of moving money twice.
 */
export class LedgerStore {
  private readonly now: () => Date
  private readonly db: LedgerDb
  private readonly pool: pg.Pool

  /** `database`: drizzle and the pool under it (pipeline mode, see pg-kit: placing a hold pipelines its statements). */
  constructor(
    database: { db: LedgerDb; pool: pg.Pool },
    private readonly opts: LedgerStoreOptions,
  ) {
    this.db = database.db
    this.pool = database.pool
    this.now = opts.now ?? (() => new Date())
  }

  /** Create an account; with a caller-chosen id, a repeat with the same currency returns the existing one. */
  async createAccount(input: { id?: string; currency: string }): Promise<{ account: AccountView; created: boolean }> {
    const id = input.id ?? `acc_${randomUUID()}`
    const inserted = await this.db
      .insert(accounts)
      .values({ id, currency: input.currency })
      .onConflictDoNothing()
      .returning()
    if (inserted[0]) return { account: accountView(inserted[0]), created: true }
    const existing = await this.getAccountRow(this.db, id)
    if (existing.currency !== input.currency) throw new AccountConflictError(id)
    return { account: accountView(existing), created: false }
  }

  /** An account with its balance, held and available amounts (expired holds no longer count). */
  async getAccount(id: string): Promise<AccountView> {
    return this.db.transaction(async (tx) => {
      const account = await this.lockAccount(tx, id)
      return accountView(await this.expireDue(tx, account))
    })
  }

  /** Credit an account (funding). Idempotent by key: a repeat returns the account without crediting again. */
  async credit(input: { accountId: string; idempotencyKey: string; amount: Money }): Promise<CreditResult> {
    return this.db.transaction(async (tx) => {
      let account: AccountRow = await this.lockAccount(tx, input.accountId)
      const previous = await tx
        .select()
        .from(entries)
        .where(and(eq(entries.kind, 'credit'), eq(entries.reference, input.idempotencyKey)))
      if (previous[0]) {
        const p = previous[0]
        if (p.accountId !== input.accountId || p.amountMinor !== input.amount.minor || p.currency !== input.amount.currency) {
          throw new IdempotencyConflictError('credit', input.idempotencyKey)
        }
        return { idempotencyKey: input.idempotencyKey, account: accountView(account), replayed: true }
      }
      if (account.currency !== input.amount.currency) throw new CurrencyMismatchError(account.id)
      const balance = account.balanceMinor + input.amount.minor
      ;[account] = (await tx
        .update(accounts)
        .set({ balanceMinor: balance, updatedAt: this.now() })
        .where(eq(accounts.id, account.id))
        .returning()) as [AccountRow]
      await tx.insert(entries).values({
        id: `ent_${randomUUID()}`,
        accountId: account.id,
        kind: 'credit',
        reference: input.idempotencyKey,
        amountMinor: input.amount.minor,
        currency: account.currency,
        balanceAfterMinor: balance,
      })
      return { idempotencyKey: input.idempotencyKey, account: accountView(account), replayed: false }
    })
  }

  /**
   * Place a hold for one authorisation, atomically and idempotently: the authorizationId is the key; a
   * repeat returns the stored hold (`replayed: true`). Insufficient funds leave no state, so a retry after
   * funding is evaluated afresh.
   */
  async placeHold(input: PlaceHoldInput): Promise<PlaceHoldResult> {
    checkRequested(input.amount.minor)
    try {
      return (await this.placeFundedHold(input)) ?? (await this.placeHoldOnce(input))
    } catch (err) {
      // A concurrent duplicate committed its hold while this one waited for the account lock, after this
      // statement's snapshot was taken: the unique authorization_id stopped the second hold. Run again: the
      // next snapshot sees it and replays it.
      if (isUniqueViolation(err, 'holds_authorization_id_unique')) return this.placeHoldOnce(input)
      throw err
    }
  }

  /**
   * Place several holds (one call of the authorizations service's decision batch): the outcome of each in
   * the inputs' order, each exactly what {@link placeHold} would give for it alone (an error fails that
   * input only). The fully funded ones, each first of its account and of its authorisation in the batch,
   * are placed together by one statement ({@link PLACE_FUNDED_HOLDS}); every other input (partial or
   * insufficient funds, replays, due holds, a second hold on one account) then takes placeHold's own path.
   * If the batch statement fails (a concurrent duplicate's hold, say) nothing of it was applied and every
   * input takes placeHold's path, which replays what a duplicate placed.
   */
  async placeHolds(inputs: readonly PlaceHoldInput[]): Promise<BatchOutcome<PlaceHoldResult>[]> {
    const outcomes: (BatchOutcome<PlaceHoldResult> | undefined)[] = new Array(inputs.length)
    const batch: { index: number; hold: HoldRow }[] = []
    const accountsSeen = new Set<string>()
    const authorizationsSeen = new Set<string>()
    const now = this.now()
    inputs.forEach((input, index) => {
      try {
        checkRequested(input.amount.minor)
      } catch (error) {
        outcomes[index] = { ok: false, error }
        return
      }
      if (!accountsSeen.has(input.accountId) && !authorizationsSeen.has(input.authorizationId)) {
        batch.push({ index, hold: this.newHold(input, input.amount.currency, input.amount.minor, false, now) })
      }
      accountsSeen.add(input.accountId)
      authorizationsSeen.add(input.authorizationId)
    })
    if (batch.length > 1) {
      const rows = await this.pool
        .query({
          name: 'ledger_place_funded_holds',
          text: PLACE_FUNDED_HOLDS,
          values: [
            batch.map((b) => b.hold.id),
            batch.map((b) => b.hold.authorizationId),
            batch.map((b) => b.hold.accountId),
            batch.map((b) => b.hold.currency),
            batch.map((b) => b.hold.amountMinor),
            batch.map((b) => b.hold.forced),
            batch[0]!.hold.expiresAt.toISOString(),
            now.toISOString(),
          ],
        })
        .then(
          (r) => r.rows as { authorization_id: string; balance_minor: string | number; held_minor: string | number }[],
          (err: unknown) => {
            // A duplicate's hold committed after this statement's snapshot: none of the batch was applied.
            if (isUniqueViolation(err, 'holds_authorization_id_unique')) return []
            throw err
          },
        )
      const placed = new Map(rows.map((r) => [r.authorization_id, r]))
      for (const { index, hold } of batch) {
        const row = placed.get(hold.authorizationId)
        if (!row) continue
        outcomes[index] = {
          ok: true,
          value: {
            result: 'placed',
            hold: holdView(hold),
            available: m(Number(row.balance_minor) - Number(row.held_minor), hold.currency),
            replayed: false,
          },
        }
      }
    }
    await Promise.all(
      inputs.map(async (input, index) => {
        if (outcomes[index]) return
        outcomes[index] = await this.placeHold(input).then(
          (value) => ({ ok: true, value }) as const,
          (error: unknown) => ({ ok: false, error }) as const,
        )
      }),
    )
    return outcomes as BatchOutcome<PlaceHoldResult>[]
  }

  /**
   * The common case in one round trip and one statement (its own transaction, no BEGIN/COMMIT): a full
   * hold with the funds there, see {@link PLACE_FUNDED_HOLD}. Undefined when the general path must decide.
   */
  private async placeFundedHold(input: PlaceHoldInput): Promise<PlaceHoldResult | undefined> {
    const now = this.now()
    const hold = this.newHold(input, input.amount.currency, input.amount.minor, false, now)
    const r = await this.pool.query({
      name: 'ledger_place_funded_hold',
      text: PLACE_FUNDED_HOLD,
      values: [hold.id, hold.authorizationId, hold.accountId, hold.currency, hold.amountMinor, hold.forced,
        hold.expiresAt.toISOString(), now.toISOString()],
    })
    const row = r.rows[0] as { balance_minor: string | number; held_minor: string | number } | undefined
    if (!row) return undefined
    return {
      result: 'placed',
      hold: holdView(hold),
      available: m(Number(row.balance_minor) - Number(row.held_minor), hold.currency),
      replayed: false,
    }
  }

  /** The row of a new active hold (the store writes it; views are built from it without reading back). */
  private newHold(input: PlaceHoldInput, currency: string, amount: number, partial: boolean, now: Date): HoldRow {
    return {
      id: `hold_${randomUUID()}`,
      authorizationId: input.authorizationId,
      accountId: input.accountId,
      currency,
      requestedMinor: input.amount.minor,
      amountMinor: amount,
      capturedMinor: 0,
      releasedMinor: 0,
      status: 'active',
      forced: input.force ?? false,
      partial,
      expiresAt: new Date(now.getTime() + this.opts.holdTtlSeconds * 1000),
      createdAt: now,
      updatedAt: now,
    }
  }

  /**
   * The general path (partial approvals, insufficient funds, replays, due holds), two round trips in one
   * transaction: `BEGIN` and the account lock (which also learns
   * whether a hold for this authorisation exists and whether holds are due to expire) in one write; then
   * the hold's insert with the raise of `held_minor` (one statement, a data-modifying CTE) and `COMMIT` in
   * another (pipeline mode, see pg-kit). Plain SQL, constant texts (prepared once per connection).
   */
  private async placeHoldOnce(input: PlaceHoldInput): Promise<PlaceHoldResult> {
    return pipelinedTransaction(this.pool, async (tx) => {
      const now = this.now()
      const [lockResult] = await tx.run({ text: LOCK_ACCOUNT_FOR_HOLD, values: [input.accountId, now.toISOString(), input.authorizationId] })
      const row = lockResult!.rows[0] as (RawAccount & { holds_due: boolean; prior_hold: boolean }) | undefined
      if (!row) throw new AccountNotFoundError(input.accountId)
      const locked: LockedForHold = { ...accountFromRaw(row), holdsDue: row.holds_due, priorHold: row.prior_hold }
      if (locked.priorHold) {
        const replay = await this.replayHoldIn(tx, input)
        if (replay) return replay
      }
      if (locked.currency !== input.amount.currency) throw new CurrencyMismatchError(locked.id)
      const account = await this.expireDueIn(tx, locked, now)
      const available = account.balanceMinor - account.heldMinor
      const plan = planHold({
        requested: input.amount.minor,
        available,
        allowPartial: input.allowPartial ?? false,
        force: input.force ?? false,
      })
      if (plan.kind === 'insufficient') {
        return { result: 'insufficient_funds', available: m(available, account.currency), replayed: false }
      }
      const hold = this.newHold(input, account.currency, plan.amount, plan.kind === 'partial', now)
      const [result] = await tx.commit({
        text: INSERT_HOLD_AND_RAISE_HELD,
        values: [hold.id, hold.authorizationId, hold.accountId, hold.currency, hold.requestedMinor, hold.amountMinor,
          hold.forced, hold.partial, hold.expiresAt.toISOString(), now.toISOString()],
      })
      const held = Number((result!.rows[0] as { held_minor: string | number }).held_minor)
      return {
        result: plan.kind === 'full' ? 'placed' : 'partial',
        hold: holdView(hold),
        available: m(account.balanceMinor - held, account.currency),
        replayed: false,
      }
    })
  }

  /** {@link replayHold} inside a pipelined transaction. */
  private async replayHoldIn(tx: PipelinedTransaction, input: PlaceHoldInput): Promise<PlaceHoldResult | undefined> {
    const [r] = await tx.run({ text: SELECT_HOLD_BY_AUTHORIZATION, values: [input.authorizationId] })
    const raw = r!.rows[0] as RawHold | undefined
    if (!raw) return undefined
    const hold = holdFromRaw(raw)
    checkReplay(hold, input)
    return {
      result: hold.partial ? 'partial' : 'placed',
      hold: holdView(hold),
      available: m(Number(raw.account_balance_minor) - Number(raw.account_held_minor), hold.currency),
      replayed: true,
    }
  }

  /** {@link expireDue} inside a pipelined transaction. */
  private async expireDueIn(tx: PipelinedTransaction, account: LockedAccount, now: Date): Promise<AccountRow> {
    if (!account.holdsDue) return account
    const [r] = await tx.run({ text: EXPIRE_DUE_HOLDS, values: [account.id, now.toISOString()] })
    const row = r!.rows[0] as RawAccount | undefined
    return row ? accountFromRaw(row) : account
  }

  /** A hold by id. */
  async getHold(holdId: string): Promise<HoldView> {
    const [hold] = await this.db.select().from(holds).where(eq(holds.id, holdId))
    if (!hold) throw new HoldNotFoundError(holdId)
    return holdView(hold)
  }

  /** A hold by the authorisation that placed it, if any. */
  async findHoldByAuthorization(authorizationId: string): Promise<HoldView | undefined> {
    const [hold] = await this.db.select().from(holds).where(eq(holds.authorizationId, authorizationId))
    return hold ? holdView(hold) : undefined
  }

  /** Add to an active hold (incremental authorisation), idempotent by incrementId. */
  async incrementHold(input: IncrementHoldInput): Promise<HoldOperationResult> {
    return this.holdOperation(input.holdId, input.incrementId, 'increment', async (tx, account, hold) => {
      if (hold.status !== 'active') throw new HoldNotActiveError(hold.id, hold.status)
      if (hold.currency !== input.amount.currency) throw new CurrencyMismatchError(account.id)
      const available = account.balanceMinor - account.heldMinor
      const plan = planHold({
        requested: input.amount.minor,
        available,
        allowPartial: input.allowPartial ?? false,
        force: input.force ?? false,
      })
      if (plan.kind === 'insufficient') return { result: 'insufficient_funds', moved: 0, hold }
      const now = this.now()
      const [updated] = (await tx
        .update(holds)
        .set({
          amountMinor: hold.amountMinor + plan.amount,
          requestedMinor: hold.requestedMinor + input.amount.minor,
          forced: hold.forced || (input.force ?? false),
          updatedAt: now,
        })
        .where(eq(holds.id, hold.id))
        .returning()) as [HoldRow]
      await tx
        .update(accounts)
        .set({ heldMinor: account.heldMinor + plan.amount, updatedAt: now })
        .where(eq(accounts.id, account.id))
      return { result: plan.kind === 'full' ? 'applied' : 'partial', moved: plan.amount, hold: updated }
    })
  }

  /**
   * Release all of a hold, or part of it (partial reversal), idempotent by releaseId. Releasing a hold that
   * is no longer active is not an error: it answers `not_active` and moves nothing.
   */
  async releaseHold(input: { holdId: string; releaseId: string; amount?: Money }): Promise<HoldOperationResult> {
    return this.holdOperation(input.holdId, input.releaseId, 'release', async (tx, account, hold) => {
      if (hold.status !== 'active') return { result: 'not_active', moved: 0, hold }
      if (input.amount && input.amount.currency !== hold.currency) throw new CurrencyMismatchError(account.id)
      const plan = planRelease(hold.amountMinor, input.amount?.minor)
      const now = this.now()
      const [updated] = (await tx
        .update(holds)
        .set({
          amountMinor: plan.remaining,
          releasedMinor: hold.releasedMinor + plan.release,
          status: plan.remaining === 0 ? 'released' : 'active',
          updatedAt: now,
        })
        .where(eq(holds.id, hold.id))
        .returning()) as [HoldRow]
      await tx
        .update(accounts)
        .set({ heldMinor: account.heldMinor - plan.release, updatedAt: now })
        .where(eq(accounts.id, account.id))
      return { result: 'applied', moved: plan.release, hold: updated }
    })
  }

  /** Capture (clearing) against a hold: debits the balance; `final` releases what is left. Idempotent by captureId. */
  async captureHold(input: { holdId: string; captureId: string; amount: Money; final: boolean }): Promise<HoldOperationResult> {
    return this.holdOperation(input.holdId, input.captureId, 'capture', async (tx, account, hold) => {
      if (hold.status !== 'active') throw new HoldNotActiveError(hold.id, hold.status)
      if (input.amount.currency !== hold.currency) throw new CurrencyMismatchError(account.id)
      const plan = planCapture(hold.amountMinor, input.amount.minor, input.final)
      const now = this.now()
      const [updated] = (await tx
        .update(holds)
        .set({
          amountMinor: plan.remaining,
          capturedMinor: hold.capturedMinor + plan.debit,
          releasedMinor: hold.releasedMinor + plan.released,
          status: plan.remaining === 0 ? 'captured' : 'active',
          updatedAt: now,
        })
        .where(eq(holds.id, hold.id))
        .returning()) as [HoldRow]
      const balance = account.balanceMinor - plan.debit
      await tx
        .update(accounts)
        .set({ balanceMinor: balance, heldMinor: account.heldMinor - plan.fromHold - plan.released, updatedAt: now })
        .where(eq(accounts.id, account.id))
      await tx.insert(entries).values({
        id: `ent_${randomUUID()}`,
        accountId: account.id,
        kind: 'capture',
        reference: input.captureId,
        amountMinor: -plan.debit,
        currency: hold.currency,
        balanceAfterMinor: balance,
      })
      return { result: 'applied', moved: plan.debit, hold: updated }
    })
  }

  private async holdOperation(
    holdId: string,
    operationId: string,
    kind: HoldOperationResult['kind'],
    apply: (
      tx: Tx,
      account: AccountRow,
      hold: HoldRow,
    ) => Promise<{ result: HoldOperationResult['result']; moved: number; hold: HoldRow }>,
  ): Promise<HoldOperationResult> {
    const replay = async (db: LedgerDb | Tx): Promise<HoldOperationResult | undefined> => {
      const [op] = await db.select().from(holdOperations).where(eq(holdOperations.operationId, operationId))
      if (!op) return undefined
      if (op.holdId !== holdId || op.kind !== kind) throw new IdempotencyConflictError(kind, operationId)
      return { ...(op.result as HoldOperationResult), replayed: true }
    }
    const early = await replay(this.db)
    if (early) return early
    return this.db.transaction(async (tx) => {
      const [ref] = await tx.select({ accountId: holds.accountId }).from(holds).where(eq(holds.id, holdId))
      if (!ref) throw new HoldNotFoundError(holdId)
      const account = await this.expireDue(tx, await this.lockAccount(tx, ref.accountId))
      const raced = await replay(tx)
      if (raced) return raced
      const [hold] = (await tx.select().from(holds).where(eq(holds.id, holdId))) as [HoldRow]
      const applied = await apply(tx, account, hold)
      const result: HoldOperationResult = {
        operationId,
        kind,
        result: applied.result,
        amount: m(applied.moved, hold.currency),
        hold: holdView(applied.hold),
        replayed: false,
      }
      await tx.insert(holdOperations).values({ operationId, holdId, kind, result })
      return result
    })
  }

  private async replayHold(db: LedgerDb | Tx, input: PlaceHoldInput): Promise<PlaceHoldResult | undefined> {
    const [hold] = await db.select().from(holds).where(eq(holds.authorizationId, input.authorizationId))
    if (!hold) return undefined
    checkReplay(hold, input)
    const [account] = await db.select().from(accounts).where(eq(accounts.id, hold.accountId))
    const available = account ? account.balanceMinor - account.heldMinor : 0
    return {
      result: hold.partial ? 'partial' : 'placed',
      hold: holdView(hold),
      available: m(available, hold.currency),
      replayed: true,
    }
  }

  /**
   * Lock the account row and learn, in the same statement, whether any of its active holds is due to
   * expire. The subquery's snapshot may predate the lock wait; that is safe here: a stale "due" only
   * costs a sweep that finds nothing, and holds only become due with time, not through other writers.
   */
  private async lockAccount(tx: Tx, id: string): Promise<LockedAccount> {
    const now = this.now()
    const [row] = await tx
      .select({
        ...getTableColumns(accounts),
        holdsDue: sql<boolean>`exists(select 1 from ${holds} where ${holds.accountId} = ${id}
          and ${holds.status} = 'active' and ${holds.expiresAt} <= ${now.toISOString()})`,
      })
      .from(accounts)
      .where(eq(accounts.id, id))
      .for('update')
    if (!row) throw new AccountNotFoundError(id)
    return row
  }

  private async getAccountRow(db: LedgerDb | Tx, id: string): Promise<AccountRow> {
    const [account] = await db.select().from(accounts).where(eq(accounts.id, id))
    if (!account) throw new AccountNotFoundError(id)
    return account
  }

  /** Expire the account's due holds (caller holds the account lock) and return the refreshed account. */
  private async expireDue(tx: Tx, account: LockedAccount): Promise<AccountRow> {
    if (!account.holdsDue) return account
    const now = this.now()
    const expired = await tx
      .update(holds)
      .set({ status: 'expired', updatedAt: now })
      .where(and(eq(holds.accountId, account.id), eq(holds.status, 'active'), lte(holds.expiresAt, now)))
      .returning({ amount: holds.amountMinor })
    if (expired.length === 0) return account
    const freed = expired.reduce((s, h) => s + h.amount, 0)
    const [updated] = (await tx
      .update(accounts)
      .set({ heldMinor: sql`${accounts.heldMinor} - ${freed}`, updatedAt: now })
      .where(eq(accounts.id, account.id))
      .returning()) as [AccountRow]
    return updated
  }
}
