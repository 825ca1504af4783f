/**
 * The cardholder's pages: card details (PAN, expiry, CVV2), PIN set (a plain HTML form posting to
 * itself) and PIN reveal. No script at all, one inline style allowed by its hash in a
 * `default-src 'none'` policy, nothing loaded from anywhere.
 */
import { createHash } from 'node:crypto'

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:2rem;color:#111}' +
  '.card{border:1px solid #999;border-radius:12px;padding:1.5rem;max-width:24rem}' +
  '.pan{font-family:ui-monospace,monospace;font-size:1.4rem;letter-spacing:.1em}' +
  'dt{color:#555;font-size:.8rem;margin-top:.8rem}dd{margin:0;font-family:ui-monospace,monospace}' +
  'label{display:block;margin-top:.8rem;color:#555;font-size:.8rem}' +
  'input{font-family:ui-monospace,monospace;font-size:1.2rem;letter-spacing:.2em;width:12rem;padding:.3rem}' +
  'button{margin-top:1rem;padding:.4rem 1rem;font-size:1rem}.error{color:#a00}.hint{color:#555;font-size:.8rem}'

/** The CSP: nothing but this page's own inline style (by hash). */
export const REVEAL_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** The PIN-set form's CSP: the same, except that the form may post to this origin (and only there). */
export const PIN_FORM_CSP = REVEAL_CSP.replace("form-action 'none'", "form-action 'self'")

/** Security headers of every reveal answer (page, JSON, errors). */
export const REVEAL_HEADERS: Record<string, string> = {
  'content-security-policy': REVEAL_CSP,
  'cache-control': 'no-store, max-age=0',
  pragma: 'no-cache',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function shell(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`
}

/** Card details shown once. */
export interface RevealedCard {
  pan: string
  expiryMonth: number
  expiryYear: number
  cvv2: string
  cardholderName?: string
}

/** The page with the card's details. */
export function cardPage(c: RevealedCard): string {
  const pan = c.pan.replace(/(\d{4})(?=\d)/g, '$1 ')
  const exp = `${String(c.expiryMonth).padStart(2, '0')}/${String(c.expiryYear % 100).padStart(2, '0')}`
  return shell(
    'Your card details',
    `<main class="card"><h1>Your card details</h1><p>This page can be opened once. Do not share it.</p><dl>` +
      `<dt>Card number</dt><dd class="pan" id="pan">${esc(pan)}</dd>` +
      `<dt>Expires</dt><dd id="expiry">${esc(exp)}</dd>` +
      `<dt>Security code</dt><dd id="cvv2">${esc(c.cvv2)}</dd>` +
      (c.cardholderName ? `<dt>Name</dt><dd id="name">${esc(c.cardholderName)}</dd>` : '') +
      `</dl></main>`,
  )
}

/** The page for invalid, expired or used links (one answer for all: no oracle). */
export function gonePage(): string {
  return shell('Link no longer valid', '<main class="card"><h1>Link no longer valid</h1><p id="gone">This link is invalid, has expired or was already used.</p></main>')
}

/** Why the PIN-set form is shown again (the session is still usable). */
export type PinFormProblem = 'mismatch' | 'format' | 'weak'

const PROBLEMS: Record<PinFormProblem, string> = {
  mismatch: 'The two PINs you typed differ. Please type them again.',
  format: 'A PIN has 4 to 12 digits.',
  weak: 'This PIN is too easy to guess (same digit, a run like 1234 or 4321, or a repeated pair like 1212). Please choose another.',
}

/**
 * The PIN-set form: two password fields, posted to the same URL as a plain form (works without script).
 * Nothing typed is ever put back into the page.
 */
export function pinFormPage(token: string, problem?: PinFormProblem): string {
  const action = `/pin/${encodeURIComponent(token)}`
  const field = (id: string, label: string) =>
    `<label for="${id}">${label}</label><input id="${id}" name="${id}" type="password" inputmode="numeric" autocomplete="off" ` +
    `pattern="[0-9]{4,12}" minlength="4" maxlength="12" required>`
  return shell(
    'Choose your PIN',
    `<main class="card"><h1>Choose your PIN</h1><p>This page can be used once. Do not share it.</p>` +
      (problem ? `<p class="error" id="error" role="alert">${esc(PROBLEMS[problem])}</p>` : '') +
      `<form method="post" action="${esc(action)}">` +
      field('pin', 'New PIN (4 to 12 digits)') +
      field('confirm', 'New PIN again') +
      `<p class="hint">Avoid PINs like 1111, 1234, 1212 and dates such as your birthday.</p>` +
      `<button type="submit" id="submit">Set PIN</button></form></main>`,
  )
}

/** After a PIN was set. */
export function pinSetPage(): string {
  return shell('PIN set', '<main class="card"><h1>Your PIN is set</h1><p id="done">Use it from now on. This link can no longer be used.</p></main>')
}

/** The PIN shown once. */
export function pinRevealPage(pin: string): string {
  return shell(
    'Your PIN',
    `<main class="card"><h1>Your PIN</h1><p>This page can be opened once. Do not share it.</p><dl><dt>PIN</dt><dd class="pan" id="pin">${esc(pin)}</dd></dl></main>`,
  )
}

/** The upstream failed: nothing was done with the link that the cardholder can see; try later. */
export function unavailablePage(): string {
  return shell('Try again later', '<main class="card"><h1>Something went wrong</h1><p id="unavailable">Please try again later or ask for a new link.</p></main>')
}
