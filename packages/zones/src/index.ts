export * from './zone-map.js'
export * from './k8s.js'
export * from './boundaries.js'
export * from './service-runtime.js'
