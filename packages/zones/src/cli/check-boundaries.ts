// Fails (exit 1) when a workspace package depends on or imports code from a zone it must not.
import { checkBoundaries } from '../boundaries.js'
import { loadZoneMap, REPO_ROOT } from '../zone-map.js'

const violations = checkBoundaries(REPO_ROOT, loadZoneMap())
for (const v of violations) console.error(`boundary: ${v.pkg} -> ${v.target}: ${v.rule}`)
console.log(violations.length ? `${violations.length} boundary violation(s)` : 'boundaries: ok')
process.exit(violations.length ? 1 : 0)
