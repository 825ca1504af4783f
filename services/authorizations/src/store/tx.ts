import type { AuthorizationsDb } from '../db/client.js'

/** A drizzle transaction on the authorizations database. */
export type Tx = Parameters<Parameters<AuthorizationsDb['transaction']>[0]>[0]
/** The database or a transaction on it. */
export type Queryable = AuthorizationsDb | Tx
