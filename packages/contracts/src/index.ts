/**
 * @cardplane/contracts — the unified internal (scheme-neutral) authorisation format, after jPOS CMF and the
 * processors' decision webhooks. Everything between the CDE and the main cluster speaks these types.
 */
export * from './primitives.js'
export * from './enums.js'
export * from './reasons.js'
export * from './authorization-request.js'
export * from './decision.js'
export * from './advice.js'
export * from './reversal.js'
export * from './validate.js'
export { ALL_SCHEMAS } from './registry.js'
export { renderSchemas, SCHEMA_BASE_URI } from './render-schemas.js'
export { exampleAuthorizationRequest } from './examples.js'
export * from './frame-batch.js'
