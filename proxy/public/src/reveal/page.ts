/**
 * The cardholder's card-details page: PAN, expiry and CVV2, no script at all, one inline style
 * allowed by its hash in a `default-src 'none'` policy, nothing loaded from anywhere.
 */
import { createHash } from 'node:crypto'

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:2rem;color:#111}' +
  '.card{border:1px solid #999;border-radius:12px;padding:1.5rem;max-width:24rem}' +
  '.pan{font-family:ui-monospace,monospace;font-size:1.4rem;letter-spacing:.1em}' +
  'dt{color:#555;font-size:.8rem;margin-top:.8rem}dd{margin:0;font-family:ui-monospace,monospace}'

/** The CSP: nothing but this page's own inline style (by hash). */
export const REVEAL_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

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
