/**
 * @cardplane/tool-sim — the scheme simulator: a Visa BASE I link client, card-side message builders (ARQC
 * under the dev IMK, PIN blocks under the dev ZPK) and the demo run.
 */
export * from './visa-link-client.js'
export * from './card-messages.js'
export * from './issuer-setup.js'
export * from './dev-platform.js'
export * from './stats.js'
export { runSim } from './cli.js'
export { runDemo, type DemoReport, type DemoRow } from './demo.js'
