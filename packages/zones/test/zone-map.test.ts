import t from 'tap'
import { parse } from 'yaml'
import { readFileSync } from 'node:fs'
import {
  DEFAULT_ZONE_MAP_PATH, ZoneMapError, allowedCallers, edgeAllowed, loadZoneMap, parseZoneMap, serviceBySpiffeId,
} from '../src/index.js'

const raw = () => parse(readFileSync(DEFAULT_ZONE_MAP_PATH, 'utf8')) as Record<string, any>

t.test('the committed zone map loads and every edge is same-group or adjacent', async (t) => {
  const map = loadZoneMap()
  t.equal(map.services.length, 10)
  for (const e of map.edges) {
    const a = map.services.find((s) => s.name === e.from)!
    const b = map.services.find((s) => s.name === e.to)!
    t.ok(Math.abs(a.group - b.group) <= 1, `${e.from} -> ${e.to}`)
  }
  t.equal(serviceBySpiffeId(map, 'spiffe://cardplane.dev/g3/card-vault')?.name, 'card-vault')
  t.same(allowedCallers(map, 'keyvault').map((s) => s.name), ['card-vault'])
})

t.test('the architecture\'s forbidden edges are absent', async (t) => {
  const map = loadZoneMap()
  t.notOk(edgeAllowed(map, 'cards', 'processor'), 'group 0 never reaches group 2 directly')
  t.notOk(edgeAllowed(map, 'processor', 'keyvault'), 'group 2 never reaches group 4')
  t.notOk(edgeAllowed(map, 'proxy-public', 'card-vault'), 'the public proxy never reaches the card vault')
})

t.test('trust domain comes from config when given', async (t) => {
  const map = loadZoneMap(DEFAULT_ZONE_MAP_PATH, { trustDomain: 'issuer.example' })
  t.equal(map.services[0]!.spiffeId.startsWith('spiffe://issuer.example/g'), true)
})

t.test('the loader rejects an edge that skips a group', async (t) => {
  const doc = raw()
  doc.edges.push({ from: 'cards', to: 'processor', why: 'mistake' })
  t.throws(() => parseZoneMap(doc), ZoneMapError)
  t.throws(() => parseZoneMap(doc), /crosses more than one group boundary/)
})

t.test('the loader rejects internet exposure outside the DMZ', async (t) => {
  const doc = raw()
  doc.services.find((s: any) => s.name === 'card-vault').internet = { ingress: [443] }
  t.throws(() => parseZoneMap(doc), /only group 1/)
})

t.test('the loader rejects duplicates and unknown names', async (t) => {
  const dupEdge = raw()
  dupEdge.edges.push({ ...dupEdge.edges[0] })
  t.throws(() => parseZoneMap(dupEdge), /duplicate edge/)
  const unknown = raw()
  unknown.edges.push({ from: 'cards', to: 'nope' })
  t.throws(() => parseZoneMap(unknown), /unknown service nope/)
  const port = raw()
  port.services[1].devPort = port.services[0].devPort
  t.throws(() => parseZoneMap(port), /used twice/)
  const group = raw()
  group.services[0].group = 7
  t.throws(() => parseZoneMap(group), /unknown group/)
})
