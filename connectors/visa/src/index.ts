/**
 * @cardplane/visa — the Visa BASE I connector hosted by cde/processor: `visa-base1` frames ⇄ the unified
 * format (`@cardplane/contracts`) + the sensitive envelope, and internal reasons → Visa DE 39 in one place.
 */
export * from './message.js'
export * from './response-codes.js'
export * from './sensitive-envelope.js'
export * from './to-unified.js'
export * from './reversals.js'
export * from './responses.js'
export * from './emv-tlv.js'
export * from './iso-codes.js'
export * from './connector.js'
export { flatten, unflatten } from './wire-codec.js'
