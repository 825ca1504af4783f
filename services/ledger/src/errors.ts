import { ConflictError, NotFoundError, ValidationError } from '@cardplane/service-kit'

/** No account with this id (404). */
export class AccountNotFoundError extends NotFoundError<{ accountId: string }> {
  constructor(accountId: string) {
    super('account_not_found', { publicMessage: 'account not found', context: { accountId } })
  }
}

/** No hold with this id (404). */
export class HoldNotFoundError extends NotFoundError<{ holdId: string }> {
  constructor(holdId: string) {
    super('hold_not_found', { publicMessage: 'hold not found', context: { holdId } })
  }
}

/** An idempotency key was reused with different content (409): the first request's effect stands. */
export class IdempotencyConflictError extends ConflictError<{ key: string; what: string }> {
  constructor(what: string, key: string) {
    super('idempotency_conflict', {
      publicMessage: `${what} key already used with different parameters`,
      context: { key, what },
    })
  }
}

/** The amount's currency is not the account's (400). */
export class CurrencyMismatchError extends ValidationError<{ accountId: string }> {
  constructor(accountId: string) {
    super('currency_mismatch', { publicMessage: "currency does not match the account's currency", context: { accountId } })
  }
}

/** The account exists with another currency (409). */
export class AccountConflictError extends ConflictError<{ accountId: string }> {
  constructor(accountId: string) {
    super('account_conflict', { publicMessage: 'account exists with another currency', context: { accountId } })
  }
}

/** Increment or capture on a hold that is no longer active (409). */
export class HoldNotActiveError extends ConflictError<{ holdId: string; status: string }> {
  constructor(holdId: string, status: string) {
    super('hold_not_active', { publicMessage: `hold is ${status}`, context: { holdId, status } })
  }
}
