// Demo card program: the cards service loads its programs from configuration
// (services/cards/config/programs.json), so "making sure the demo program exists" means checking that
// cards serves it, that its keys exist in the key service (created by 10-keyvault), and registering it
// in the card vault by issuing one demo card for a demo customer, once. After this step,
// `pnpm cardplane cards issue --program demo-debit-gb --count 3` works.
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WorkloadApiClient } from '@cardplane/spiffe'
import { serviceByName } from '@cardplane/zones'
import type { BootstrapContext } from '../bootstrap.js'

const DEMO_PROGRAM = 'demo-debit-gb'

export default async function demoProgram(ctx: BootstrapContext): Promise<void> {
  const cards = serviceByName(ctx.zoneMap, 'cards')
  const base = ctx.urls.cards ?? `http://127.0.0.1:${cards.devPort}`
  const workload = new WorkloadApiClient({ socketPath: ctx.spiffe.endpoint('console') })
  try {
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
      const svid = await workload.fetchJwtSvid(cards.spiffeId)
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${svid.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      })
      const text = await res.text()
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined }
    }
    const programs = await call('GET', '/v1/programs')
    if (programs.status !== 200) throw new Error(`cards /v1/programs answered ${programs.status}`)
    const list = (programs.body as { programs: { id: string }[] }).programs
    if (!list.some((p) => p.id === DEMO_PROGRAM)) throw new Error(`cards has no program ${DEMO_PROGRAM} (services/cards/config/programs.json)`)
    const marker = join(ctx.stateDir, 'demo-program.json')
    if (existsSync(marker)) {
      const m = JSON.parse(await readFile(marker, 'utf8')) as { cardId?: string }
      ctx.log(`demo program ${DEMO_PROGRAM} ready (demo card ${m.cardId ?? 'unknown'})`)
      return
    }
    // One card registers the program in the card vault and proves the whole issuance path.
    const issued = await call('POST', '/v1/cards', { programId: DEMO_PROGRAM, customerId: 'demo_customer', count: 1, cardholderName: 'DEMO CARDHOLDER' })
    if (issued.status !== 201) throw new Error(`demo card issue answered ${issued.status}: ${JSON.stringify(issued.body)}`)
    const card = (issued.body as { cards: { cardId: string; lastFour: string }[] }).cards[0]
    await mkdir(ctx.stateDir, { recursive: true })
    await writeFile(marker, JSON.stringify({ programId: DEMO_PROGRAM, cardId: card?.cardId }, null, 2))
    ctx.log(`demo program ${DEMO_PROGRAM} ready: demo card ${card?.cardId} (…${card?.lastFour})`)
  } finally {
    workload.close()
  }
}
