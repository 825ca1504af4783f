import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '@cardplane/service-kit'

/** The card is unknown (by ID or by PAN). The message never names the PAN. */
export function cardNotFound(): NotFoundError {
  return new NotFoundError('card_not_found', { publicMessage: 'card not found' })
}

/** A program was re-sent with a different PAN range or key names than the stored one. */
export function programMismatch(programId: string): ConflictError<{ programId: string }> {
  return new ConflictError('program_mismatch', {
    publicMessage: 'program definition differs from the stored one',
    context: { programId },
  })
}

/** The program's account range has no numbers left. */
export function rangeExhausted(programId: string): ConflictError<{ programId: string }> {
  return new ConflictError('pan_range_exhausted', { publicMessage: 'the program has no card numbers left', context: { programId } })
}

/** Invalid or expired or already used reveal token (one answer for all three: no oracle). */
export function revealInvalid(): NotFoundError {
  return new NotFoundError('reveal_session_invalid', { publicMessage: 'this link is invalid, expired or already used' })
}

/** Bad input. */
export function invalid(code: string, message: string): ValidationError {
  return new ValidationError(code, { publicMessage: message })
}

/** No data key could be obtained from the key service. */
export function keysUnavailable(cause: unknown): UnavailableError {
  return new UnavailableError('key_service_unavailable', { retry: true, cause })
}

/** A chosen PIN was refused (format or guessable); the session stays usable while attempts are left. */
export function pinRefused(code: 'pin_format' | 'pin_weak', attemptsLeft: number): ValidationError<{ attemptsLeft: number }> {
  return new ValidationError(code, {
    publicMessage: code === 'pin_weak' ? 'this PIN is too easy to guess' : 'a PIN has 4 to 12 digits',
    context: { attemptsLeft },
  })
}

/** The card's PIN cannot be shown: the vault holds only its PVV (issued before PIN storage, or no PIN). */
export function pinNotRevealable(): ConflictError {
  return new ConflictError('pin_not_revealable', { publicMessage: 'this card has no PIN that can be shown; set a new PIN instead' })
}

/** A PAN index key replacement was asked for while the previous one is still retiring (one at a time). */
export function indexKeyRetiring(retiringKeyId: number): ConflictError<{ retiringKeyId: number }> {
  return new ConflictError('index_key_retiring', {
    publicMessage: 'the previous PAN index key is still retiring: run the rotation pass until it is retired, then replace again',
    context: { retiringKeyId },
  })
}
