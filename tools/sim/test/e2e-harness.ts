// The end-to-end platform for the reversal tests: every service as its own process, a Visa link on
// proxy-public, cards issued and revealed like a cardholder would, accounts funded in the ledger. The same
// set-up as e2e-authorisation.test.ts, which shares the program and keys from here.
import type { Redis } from 'ioredis'
import { createServiceClient, type ServiceClient } from '@cardplane/service-kit'
import { freePort, startTestPlatform, testProgram, TEST_KEYS, type TestPlatform } from '@cardplane/tool-leak-scan/platform'
import { authorizationRequest, type AuthOptions, type SimKeys } from '../src/card-messages.js'
import type { IssuedCard } from '../src/issuer-setup.js'
import { VisaLinkClient } from '../src/visa-link-client.js'

/** The simulator plays the card and the acquirer with the test platform's clear keys (IMK-AC and link ZPK). */
export const KEYS: SimKeys = { imkAc: TEST_KEYS.imkMaterial, arqcProfile: 'visa-cvn18', zpk: TEST_KEYS.zpkMaterial }

/** The card program of an end-to-end run: test keys, chip by Visa CVN 18 under the test IMK-AC. */
export function e2eProgram(id: string, bin: string, accountStart: string) {
  return { ...testProgram(id, bin, accountStart), imkAcName: TEST_KEYS.imk, arqcProfile: 'visa-cvn18' as const }
}

/** A running end-to-end platform with clients as the card vault's, the ledger's and authorizations' callers. */
export interface E2e {
  platform: TestPlatform
  linkPort: number
  redisPrefix: string
  link: VisaLinkClient
  vault: ServiceClient
  ledger: ServiceClient
  authz: ServiceClient
  programId: string
  /** Everything sensitive sent, for the leak scan. */
  sent: { pans: Set<string>; cvv2s: Set<string> }
  issueCard(opts?: { fund?: number; status?: string }): Promise<IssuedCard>
  auth(card: IssuedCard, o?: Partial<AuthOptions>): ReturnType<typeof authorizationRequest>
  available(accountId: string): Promise<{ balance: number; held: number; available: number }>
  close(): Promise<void>
}

/** Start the platform (seven processes) with the processor's deadline and advice retry delay given. */
export async function startE2e(opts: { prefix: string; deadlineMs: number; adviceRetryMs: number }): Promise<E2e> {
  const linkPort = await freePort()
  const program = e2eProgram(`${opts.prefix.replace(/[^a-z0-9-]/g, '-')}-visa-eur`, '45399131', '3000000')
  const platform = await startTestPlatform({
    services: ['keyvault', 'card-vault', 'ledger', 'authorizations', 'proxy-internal', 'processor', 'proxy-public'],
    prefix: opts.prefix,
    env: {
      processor: {
        PROCESSOR_LINKS: JSON.stringify([{ name: 'visa', scheme: 'visa', zpkName: TEST_KEYS.zpk }]),
        AUTH_DEADLINE_MS: String(opts.deadlineMs),
        ADVICE_RETRY_MS: String(opts.adviceRetryMs),
      },
      'proxy-public': {
        PUBLIC_REVEAL_PORT: '0',
        PUBLIC_LINKS: JSON.stringify([
          { name: 'visa', scheme: 'visa', port: linkPort, framing: 'vmlh', allowedPeers: [], maxFrameSize: 2048, readTimeoutMs: 400, idleTimeoutMs: 60_000, maxConnections: 8, maxInFlight: 256 },
        ]),
      },
    },
  })
  // The test platform keeps the processor's keys under the run's prefix and deletes them on stop.
  const redisPrefix = `${platform.redisPrefix}processor:`
  const clients: ServiceClient[] = []
  const client = (callee: string, as: string): ServiceClient => {
    const c = createServiceClient({ callee, zoneMap: platform.zoneMap, svids: platform.workload(as), baseUrl: platform.urls[callee]!, timeoutMs: 20_000 })
    clients.push(c)
    return c
  }
  const vault = client('card-vault', 'processor')
  const ledger = client('ledger', 'cards')
  const authz = client('authorizations', 'cards')
  const link = await VisaLinkClient.connect({ port: linkPort, timeoutMs: 8000 })
  const sent = { pans: new Set<string>(), cvv2s: new Set<string>() }
  let accountSeq = 0

  const e2e: E2e = {
    platform,
    linkPort,
    redisPrefix,
    link,
    vault,
    ledger,
    authz,
    programId: program.id,
    sent,
    async issueCard(o = {}) {
      const issued = await vault.request<{ cards: { cardId: string }[] }>({ method: 'POST', path: '/v1/cards', body: { program, count: 1 } })
      const cardId = issued.body.cards[0]!.cardId
      const s = await vault.request<{ token: string }>({ method: 'POST', path: `/v1/cards/${cardId}/sessions`, body: { kind: 'card' } })
      const r = await vault.request<{ pan: string; expiryMonth: number; expiryYear: number; cvv2: string }>({ method: 'POST', path: '/v1/sessions/reveal', body: { token: s.body.token } })
      const expiry = `${String(r.body.expiryYear % 100).padStart(2, '0')}${String(r.body.expiryMonth).padStart(2, '0')}`
      const accountId = `acc_e2e_rev_${process.pid}_${++accountSeq}`
      await ledger.request({ method: 'POST', path: '/v1/accounts', body: { id: accountId, currency: 'EUR' } })
      if (o.fund) await ledger.request({ method: 'POST', path: `/v1/accounts/${accountId}/credits`, body: { idempotencyKey: `fund_${accountId}`, amount: { minor: o.fund, currency: 'EUR' } } })
      await authz.request({ method: 'PUT', path: `/v1/cards/${cardId}`, body: { accountId, programId: program.id, status: o.status ?? 'active', currency: 'EUR' } })
      sent.pans.add(r.body.pan)
      sent.cvv2s.add(r.body.cvv2)
      return { cardId, accountId, pan: r.body.pan, expiry, cvv2: r.body.cvv2 }
    },
    auth(card, o = {}) {
      return authorizationRequest(card, KEYS, {
        kind: 'ecommerce',
        amountMinor: 1250,
        currency: 'EUR',
        mcc: '5411',
        country: 'DE',
        stan: link.nextStan(),
        transmissionTime: VisaLinkClient.transmissionTime(),
        ...o,
      })
    },
    async available(accountId) {
      const r = await ledger.request<{ balance: { minor: number }; held: { minor: number }; available: { minor: number } }>({ method: 'GET', path: `/v1/accounts/${accountId}` })
      return { balance: r.body.balance.minor, held: r.body.held.minor, available: r.body.available.minor }
    },
    async close() {
      await link.close().catch(() => undefined)
      for (const c of clients) await c.close()
      await platform.stop()
    },
  }
  return e2e
}

/**
 * Jobs of a BullMQ queue (`<prefix>:<name>`) still to be delivered: delayed, waiting or active, read in
 * one MULTI so the three see one moment (read separately, a job moving wait → active → delayed between
 * them could be missed by all three on a busy machine).
 */
export async function pendingJobs(redis: Redis, queue: string): Promise<number> {
  const states = (await redis.multi().zcard(`${queue}:delayed`).llen(`${queue}:wait`).llen(`${queue}:active`).exec()) ?? []
  return states.reduce((n, [, v]) => n + Number(v), 0)
}
