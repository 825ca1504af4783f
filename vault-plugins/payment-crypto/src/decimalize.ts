/**
 * The decimalisation used by CVV, PVV and CVC3-like schemes: scan the uppercase hex result for
 * decimal digits left to right; if fewer than `count`, scan again taking A–F as 0–5.
 */
export function decimalizeHex(hex: string, count: number): string {
  let out = ''
  for (let i = 0; i < hex.length && out.length < count; i++) {
    const c = hex.charCodeAt(i)
    if (c >= 48 && c <= 57) out += hex[i]
  }
  for (let i = 0; i < hex.length && out.length < count; i++) {
    const c = hex.charCodeAt(i)
    if (c >= 65 && c <= 70) out += String(c - 65)
  }
  return out
}
