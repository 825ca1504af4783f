import { randomBytes } from 'node:crypto'
import { kcv } from '@cardplane/payment-crypto'
import type vault from 'node-vault'

/** The card-vault policy the dev bootstrap installs too (least privilege: named keys only). */
export const CARD_VAULT_POLICY = {
  path: {
    'payments/cvv/+/cvk-test': { capabilities: ['update'] },
    'payments/pin/translate': { capabilities: ['update'] },
    'payments/pin/pvv/+/pvk-test': { capabilities: ['update'] },
    'payments/pin/ibm3624/+/pvk-test': { capabilities: ['update'] },
    'payments/emv/arqc/verify/imk-test': { capabilities: ['update'] },
    'transit/encrypt/card-data': { capabilities: ['update'] },
    'transit/decrypt/card-data': { capabilities: ['update'] },
    'transit/rewrap/card-data': { capabilities: ['update'] },
    'transit/datakey/+/card-data': { capabilities: ['update'] },
    'transit/hmac/pan-index': { capabilities: ['update'] },
    'transit/verify/pan-index': { capabilities: ['update'] },
  },
}

/** Enter `material` as two components by two custodian tokens; returns the ceremony's final answer. */
export async function importByComponents(
  root: vault.client,
  client: (token?: string) => vault.client,
  keyName: string,
  type: string,
  material: string,
  algorithm: 'tdes' | 'aes' = 'tdes',
): Promise<{ combined_kcv: string; version: number }> {
  const len = material.length / 2
  const c1 = randomBytes(len)
  const c2 = Buffer.from(material, 'hex').map((b, i) => b ^ (c1[i] ?? 0))
  const comps = [c1.toString('hex').toUpperCase(), Buffer.from(c2).toString('hex').toUpperCase()]
  await root.write(`keys/${keyName}/ceremony`, { type, algorithm, length: len, components: 2, exportable: true })
  let last: { combined_kcv: string; version: number } | undefined
  for (const [i, comp] of comps.entries()) {
    const custodian = `custodian-${i + 1}`
    const t = await root.write('auth/token/create', { policies: ['root'], meta: { custodian }, ttl: 600 })
    const r = await client(t.auth.client_token).write(`keys/${keyName}/ceremony/component`, { custodian, component: comp, kcv: kcv(comp, { algorithm }) })
    last = r.data
  }
  if (!last) throw new Error('no components')
  return last
}
