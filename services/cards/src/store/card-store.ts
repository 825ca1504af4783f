import type { Pool } from 'pg'

/** A card as the main cluster holds it (no PAN, ever). */
export interface CardRecord {
  cardId: string
  programId: string
  customerId: string
  accountId: string
  lastFour: string
  bin: string
  expiryMonth: number
  expiryYear: number
  status: string
  manufacturingStatus: string | null
  createdAt: string
}

function row(r: any): CardRecord {
  return {
    cardId: r.card_id,
    programId: r.program_id,
    customerId: r.customer_id,
    accountId: r.account_id,
    lastFour: r.last_four,
    bin: r.bin,
    expiryMonth: r.expiry_month,
    expiryYear: r.expiry_year,
    status: r.status,
    manufacturingStatus: r.manufacturing_status,
    createdAt: new Date(r.created_at).toISOString(),
  }
}

/** SQL access of the cards service. */
export class CardStore {
  constructor(readonly pool: Pool) {}

  async insertMany(cards: Omit<CardRecord, 'createdAt' | 'manufacturingStatus'>[]): Promise<void> {
    if (cards.length === 0) return
    const values: unknown[] = []
    const tuples = cards.map((c, i) => {
      values.push(c.cardId, c.programId, c.customerId, c.accountId, c.lastFour, c.bin, c.expiryMonth, c.expiryYear, c.status)
      const b = i * 9
      return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7},$${b + 8},$${b + 9})`
    })
    await this.pool.query(
      `INSERT INTO cards (card_id, program_id, customer_id, account_id, last_four, bin, expiry_month, expiry_year, status)
       VALUES ${tuples.join(',')} ON CONFLICT (card_id) DO NOTHING`,
      values,
    )
  }

  async get(cardId: string): Promise<CardRecord | undefined> {
    const r = await this.pool.query({ name: 'cards_get', text: 'SELECT * FROM cards WHERE card_id = $1', values: [cardId] })
    return r.rows[0] ? row(r.rows[0]) : undefined
  }

  async setManufacturingStatus(cardId: string, status: string): Promise<boolean> {
    const r = await this.pool.query('UPDATE cards SET manufacturing_status = $2, updated_at = now() WHERE card_id = $1', [cardId, status])
    return r.rowCount === 1
  }
}
