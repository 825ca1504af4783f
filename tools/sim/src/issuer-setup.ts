import { encodePinBlock, encryptPinBlock } from '@cardplane/payment-crypto'

/**
 * Setting up cards for simulated traffic, against the services' HTTP APIs. Each call goes through a
 * `call(service, method, path, body)` function so the same code runs with whatever identity and route the
 * caller has (the demo and tests call as `cards` would; card details come back only through a reveal).
 */
export type Call = <T>(service: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => Promise<T>

/** A card program as the card vault takes it (keys by name in the key service). */
export interface SimProgram {
  id: string
  bin: string
  panLength: number
  accountStart: string
  rangeSize: string
  validityMonths: number
  serviceCode: string
  pinTryLimit: number
  cvkName: string
  pvkName: string
  pvki: number
  imkAcName?: string
  arqcProfile?: 'visa-cvn10' | 'visa-cvn18' | 'visa-cvn22'
}

/** An issued card as the simulator knows it after the reveal. */
export interface IssuedCard {
  cardId: string
  accountId: string
  pan: string
  expiry: string
  cvv2: string
  pin?: string
}

/** Build an ISO format 0 PIN block under a clear ZPK (what an acquirer's PIN pad + HSM would send). */
export function pinBlockUnder(zpk: string, pan: string, pin: string): string {
  return encryptPinBlock({ key: zpk, clearBlock: encodePinBlock({ format: 0, pin, pan }), format: 0, pan })
}
