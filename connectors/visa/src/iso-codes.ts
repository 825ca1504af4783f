/**
 * ISO 4217 and ISO 3166 numeric → alphabetic tables for the codes the connector meets. Visa carries
 * numeric codes (DE 19, 49, 51); the unified format carries alphabetic ones. A code not listed here is a
 * format problem for this issuer (answered 30/12), not a crash: extend the table when launching a market.
 */
const CURRENCIES: Record<string, { alpha: string; exponent: number }> = {
  '036': { alpha: 'AUD', exponent: 2 },
  '124': { alpha: 'CAD', exponent: 2 },
  '203': { alpha: 'CZK', exponent: 2 },
  '208': { alpha: 'DKK', exponent: 2 },
  '348': { alpha: 'HUF', exponent: 2 },
  '392': { alpha: 'JPY', exponent: 0 },
  '578': { alpha: 'NOK', exponent: 2 },
  '752': { alpha: 'SEK', exponent: 2 },
  '756': { alpha: 'CHF', exponent: 2 },
  '826': { alpha: 'GBP', exponent: 2 },
  '840': { alpha: 'USD', exponent: 2 },
  '946': { alpha: 'RON', exponent: 2 },
  '978': { alpha: 'EUR', exponent: 2 },
  '985': { alpha: 'PLN', exponent: 2 },
}

const COUNTRIES: Record<string, string> = {
  '036': 'AU',
  '040': 'AT',
  '056': 'BE',
  '124': 'CA',
  '203': 'CZ',
  '208': 'DK',
  '246': 'FI',
  '250': 'FR',
  '276': 'DE',
  '300': 'GR',
  '348': 'HU',
  '372': 'IE',
  '380': 'IT',
  '392': 'JP',
  '408': 'KP',
  '442': 'LU',
  '528': 'NL',
  '578': 'NO',
  '616': 'PL',
  '620': 'PT',
  '642': 'RO',
  '643': 'RU',
  '724': 'ES',
  '752': 'SE',
  '756': 'CH',
  '826': 'GB',
  '840': 'US',
}

const CURRENCY_NUMERIC = new Map(Object.entries(CURRENCIES).map(([n, c]) => [c.alpha, n]))
const COUNTRY_NUMERIC = new Map(Object.entries(COUNTRIES).map(([n, a]) => [a, n]))

/** Alphabetic currency for an ISO 4217 numeric code, or undefined. */
export function currencyAlpha(numeric: string): string | undefined {
  return CURRENCIES[numeric]?.alpha
}

/** ISO 4217 numeric code for an alphabetic currency, or undefined. */
export function currencyNumeric(alpha: string): string | undefined {
  return CURRENCY_NUMERIC.get(alpha)
}

/** Alpha-2 country for an ISO 3166 numeric code, or undefined. */
export function countryAlpha2(numeric: string): string | undefined {
  return COUNTRIES[numeric]
}

/** ISO 3166 numeric code for an alpha-2 country, or undefined. */
export function countryNumeric(alpha2: string): string | undefined {
  return COUNTRY_NUMERIC.get(alpha2)
}
