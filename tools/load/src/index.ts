/** @cardplane/tool-load — load generation over scheme links; see auth.bench.ts. */
export * from './load.js'
