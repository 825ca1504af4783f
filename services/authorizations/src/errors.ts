import { ConflictError, NotFoundError, ValidationError } from '@cardplane/service-kit'

/** No authorisation state for this card (404). */
export class CardNotFoundError extends NotFoundError<{ cardId: string }> {
  constructor(cardId: string) {
    super('card_not_found', { publicMessage: 'card not found', context: { cardId } })
  }
}

/** No such authorisation (404). */
export class AuthorizationNotFoundError extends NotFoundError<{ authorizationId: string }> {
  constructor(authorizationId: string) {
    super('authorization_not_found', { publicMessage: 'authorization not found', context: { authorizationId } })
  }
}

/** An idempotency key was reused for a different card or message (409). */
export class IdempotencyConflictError extends ConflictError<{ key: string; what: string }> {
  constructor(what: string, key: string) {
    super('idempotency_conflict', { publicMessage: `${what} id already used for another card`, context: { key, what } })
  }
}

/** An advice or reversal whose amounts cannot apply to the card (400). */
export class InvalidMessageError extends ValidationError<{ id: string; problem: string }> {
  constructor(id: string, problem: string) {
    super('invalid_message', { publicMessage: problem, context: { id, problem } })
  }
}
