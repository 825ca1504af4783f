export * from './dev-spiffe-server.js'
