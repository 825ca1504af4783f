import type { FastifyInstance } from 'fastify'
import type { LedgerStore } from '../store/ledger-store.js'
import { AccountParams, CreateAccountBody, CreditBody } from './schemas.js'

/** `POST /v1/accounts`, `GET /v1/accounts/:accountId`, `POST /v1/accounts/:accountId/credits`. */
export function registerAccountRoutes(app: FastifyInstance, store: LedgerStore): void {
  // cards opens an account for each customer; console for operations.
  app.post<{ Body: CreateAccountBody }>(
    '/v1/accounts',
    { config: { callers: ['cards', 'console'] }, schema: { body: CreateAccountBody } },
    async (request, reply) => {
      const { account, created } = await store.createAccount(request.body)
      return reply.code(created ? 201 : 200).send(account)
    },
  )

  app.get<{ Params: AccountParams }>(
    '/v1/accounts/:accountId',
    { config: { callers: ['cards', 'console', 'authorizations'] }, schema: { params: AccountParams } },
    async (request) => store.getAccount(request.params.accountId),
  )

  // Funding (tests, the demo, operations). Idempotent by idempotencyKey.
  app.post<{ Params: AccountParams; Body: CreditBody }>(
    '/v1/accounts/:accountId/credits',
    { config: { callers: ['cards', 'console'] }, schema: { params: AccountParams, body: CreditBody } },
    async (request, reply) => {
      const result = await store.credit({ accountId: request.params.accountId, ...request.body })
      return reply.code(result.replayed ? 200 : 201).send(result)
    },
  )
}
