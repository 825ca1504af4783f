/**
 * PAN scrubber: the pattern half of the single redaction layer (the other half is pino `redact` for
 * known sensitive field names). Any Luhn-valid run of 13–19 digits is masked to first 6 / last 4,
 * the most PCI DSS allows to be displayed. Runs may be written in groups separated by one space or
 * one dash ("4111 1111 1111 1111", Amex "3782-822463-10005"), but the groups must look like a card
 * number (a first group of 4–6 digits, then groups of 3–6 with the same separator) so that dates,
 * times and version strings such as "2026-11-22" are left alone.
 */

/** Contiguous run of 13–19 digits not touching other digits. */
const CONTIGUOUS = String.raw`(?<!\d)\d{13,19}(?!\d)`
/** Grouped run: 4–6 digits, then two or more groups of 3–6 digits, one consistent separator. */
const GROUPED = String.raw`(?<!\d)\d{4,6}(?:([ -])\d{3,6}(?:\1\d{3,6})+)(?!\d)`
const CANDIDATE = new RegExp(`${CONTIGUOUS}|${GROUPED}`, 'g')

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

function maskRun(run: string): string {
  const groups = run.split(/[ -]/)
  if (groups.length > 1) return maskGrouped(run, groups)
  const digits = run.replace(/[^\d]/g, '')
  if (digits.length < 13 || digits.length > 19 || !luhnValid(digits)) return run
  // Keep separators where they were; mask digit positions 7 .. n-4.
  let seen = 0
  let out = ''
  for (const ch of run) {
    if (ch >= '0' && ch <= '9') {
      out += seen < 6 || seen >= digits.length - 4 ? ch : '*'
      seen++
    } else {
      out += ch
    }
  }
  return out
}

/**
 * A grouped run may hold a card number plus a neighbouring group ("ref 1234 4111 1111 1111 1111"):
 * try every window of consecutive groups, longest first, and mask those that are Luhn-valid PANs.
 */
function maskGrouped(run: string, groups: string[]): string {
  const sep = run.charAt(groups[0]!.length)
  const out = [...groups]
  const masked = new Array<boolean>(groups.length).fill(false)
  for (let len = groups.length; len >= 3; len--) {
    for (let start = 0; start + len <= groups.length; start++) {
      if (masked.slice(start, start + len).some(Boolean)) continue
      const window = groups.slice(start, start + len).join(sep)
      const res = maskRun(window.replace(/[ -]/g, ''))
      if (res === window.replace(/[ -]/g, '')) continue
      // Re-apply the mask group by group so separators stay where they were.
      let pos = 0
      for (let g = start; g < start + len; g++) {
        const n = groups[g]!.length
        out[g] = res.slice(pos, pos + n)
        masked[g] = true
        pos += n
      }
    }
  }
  return out.join(sep)
}

/** Mask every Luhn-valid 13–19 digit run in `text` to first 6 / last 4. */
export function scrubPan(text: string): string {
  // Fast path: most strings have no long digit run at all.
  if (!/\d{3}/.test(text)) return text
  return text.replace(CANDIDATE, (m) => maskRun(m))
}

/** Masked form of a PAN for display: first 6, last 4. */
export function maskPan(pan: string): string {
  const digits = pan.replace(/[^\d]/g, '')
  if (digits.length <= 10) return '*'.repeat(digits.length)
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`
}

/**
 * Deep copy of a value with every string (keys included), every PAN-like integer and every error's
 * message, stack and cause scrubbed. For places outside the logger that must emit free text
 * (error responses, audit records).
 */
export function scrubDeep(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubPan(value)
  if (typeof value === 'number' || typeof value === 'bigint') {
    const s = String(value)
    return /^\d{13,19}$/.test(s) && luhnValid(s) ? maskRun(s) : value
  }
  if (typeof value !== 'object' || value === null) return value
  if (seen.has(value)) return '[Circular]'
  seen.add(value)
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      type: value.name,
      message: scrubPan(value.message),
      stack: value.stack === undefined ? undefined : scrubPan(value.stack),
    }
    for (const [k, v] of Object.entries(value)) out[scrubPan(k)] = scrubDeep(v, seen)
    if (value.cause !== undefined) out.cause = scrubDeep(value.cause, seen)
    return out
  }
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, seen))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[scrubPan(k)] = scrubDeep(v, seen)
  return out
}

/** A JSON string literal, or a JSON number token, in a serialized line. */
const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g

/**
 * Scrub one serialized JSON log line. Strings are scrubbed in place (digits, spaces and dashes are never
 * escaped by JSON.stringify, so a PAN inside a string appears verbatim); a bare integer that is a
 * Luhn-valid 13–19 digit number becomes a quoted masked string so the line stays valid JSON.
 */
export function scrubJsonLine(line: string): string {
  if (!/\d{13}|\d[ -]\d{3}/.test(line)) return line
  return line.replace(JSON_TOKEN, (tok) => {
    if (tok.charCodeAt(0) === 34 /* " */) return scrubPan(tok)
    if (/^\d{13,19}$/.test(tok) && luhnValid(tok)) return `"${maskRun(tok)}"`
    return tok
  })
}
