import type { AuthorizationRequest } from './authorization-request.js'

/**
 * A complete, valid e-commerce authorisation request, for tests and documentation. Override any
 * top-level field; nested objects are replaced, not merged.
 */
export function exampleAuthorizationRequest(overrides: Partial<AuthorizationRequest> = {}): AuthorizationRequest {
  return {
    authorizationId: 'auth_example_0001',
    messageClass: 'authorization',
    cardId: 'card_example_0001',
    lastFour: '4242',
    amounts: {
      transaction: { minor: 1250, currency: 'EUR' },
      cardholderBilling: { minor: 1250, currency: 'EUR' },
    },
    partialApprovalCapable: false,
    merchant: {
      mcc: '5411',
      acceptorId: 'MERCHANT000001',
      terminalId: 'TERM0001',
      name: 'Example Grocery',
      city: 'Berlin',
      country: 'DE',
      postalCode: '10115',
    },
    pos: {
      entryMode: 'ecommerce',
      cardPresent: false,
      cardholderPresent: false,
      pinEntered: false,
      ecommerce: true,
      threeDs: 'authenticated',
      terminalType: 'ecommerce',
      initiator: 'cardholder',
    },
    network: {
      scheme: 'visa',
      schemeTransactionId: '381234567890123',
      stan: '000123',
      rrn: '632612000123',
      transmissionTime: '2026-11-22T02:40:00.000Z',
      acquirerId: '400050',
    },
    verification: {
      cvv: 'not_present',
      cvv2: 'match',
      icvv: 'not_present',
      pin: 'not_present',
      arqc: 'not_present',
      expiry: 'match',
    },
    receivedAt: '2026-11-22T02:40:00.010Z',
    ...overrides,
  }
}
