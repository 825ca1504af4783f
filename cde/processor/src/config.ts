import { Type, baseConfigSchema, loadConfig, type Env, type Static } from '@cardplane/service-kit'
import { DECLINE_REASONS } from '@cardplane/contracts'

const LinkSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9-]{1,32}$' }),
    scheme: Type.Literal('visa'),
    zpkName: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    mode: Type.Optional(Type.Union([Type.Literal('process'), Type.Literal('passthrough')])),
  },
  { additionalProperties: false },
)

const StandInRulesSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('decline'), Type.Literal('approve')]),
    declineReason: Type.Optional(Type.Union(DECLINE_REASONS.map((r) => Type.Literal(r)))),
    perTransactionLimitMinor: Type.Optional(Type.Integer({ minimum: 0 })),
    dailyLimitMinor: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
)

/**
 * Environment of processor: the base variables every service reads plus the authorisation pipeline's.
 * Only this file reads `process.env`.
 */
export const processorConfigSchema = Type.Composite([
  baseConfigSchema,
  Type.Object({
    PROCESSOR_LINKS: Type.Array(LinkSchema, {
      default: [{ name: 'visa', scheme: 'visa', zpkName: 'zpk-visa-link' }],
      description:
        'JSON array of scheme links `{ name, scheme, zpkName, mode? }`: frames arrive on `POST /v1/links/<name>/frames`; `zpkName` is the zone PIN key shared with the scheme (key service); `mode: passthrough` answers without work (benchmark floor).',
    }),
    AUTH_DEADLINE_MS: Type.Integer({
      minimum: 100,
      maximum: 10_000,
      default: 1500,
      description: 'Hard deadline from receipt of an authorisation to its answer (ms); the main cluster gets what is left, then stand-in rules answer.',
    }),
    PROCESSOR_MAX_IN_FLIGHT: Type.Integer({
      minimum: 1,
      default: 512,
      description:
        'Authorisations worked on at once; past it a new one is answered 91 at once (after the duplicate check) instead of queueing past its deadline. Frames that arrive already past the deadline are answered the same way. Size it as capacity × the latency accepted under overload, well inside the deadline (default: about 1,000/s × 0.5 s). It must stay well above what the downstream batches hold (VERIFY_CALLS_IN_FLIGHT × VERIFY_BATCH_MAX + DECISION_CALLS_IN_FLIGHT × DECISION_BATCH_MAX, 128 by default): at 128 a step from 50/s to 1,000/s on the development machine shed 33-48 frames (91) in a 300 ms transient that 512 absorbed with no error.',
    }),
    DECISION_BATCH_MAX: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 16,
      description:
        'Most decisions sent to the main cluster in one call when decisions queue up (POST /v1/decisions/batch); 1: every decision in its own call. A request is about 1–2 KB: the batch must fit proxy-internal\'s PROXY_MAX_BODY_BYTES (64 KiB by default).',
    }),
    DECISION_CALLS_IN_FLIGHT: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 4,
      description:
        'Decision calls to the main cluster in flight at once; a decision arriving while one is free is sent at once, the others wait and go together in the next call.',
    }),
    VERIFY_BATCH_MAX: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 16,
      description:
        'Most card verifications sent to the card vault in one call when they queue up (POST /v1/verify/batch); 1: every verification in its own call.',
    }),
    VERIFY_CALLS_IN_FLIGHT: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 4,
      description:
        'Verification calls to the card vault in flight at once; a verification arriving while one is free is sent at once, the others wait and go together in the next call.',
    }),
    DUPLICATE_WINDOW_MS: Type.Integer({
      minimum: 1000,
      default: 3_600_000,
      description: 'How long a DE 7 + DE 11 + DE 32 key is remembered: a retransmission within it gets the original answer.',
    }),
    STAND_IN_RULES: Type.Object(StandInRulesSchema.properties, {
      additionalProperties: false,
      default: { mode: 'decline', declineReason: 'issuer_unavailable' },
      description:
        'JSON stand-in rules when the main cluster does not answer in time: `{ "mode": "decline", "declineReason": "issuer_unavailable" }` (Visa 91), or `{ "mode": "approve", "perTransactionLimitMinor": 5000, "dailyLimitMinor": 20000 }`.',
    }),
    PROCESSOR_REDIS_PREFIX: Type.String({
      default: 'cardplane:processor:',
      description: 'Prefix of the processor Redis keys (duplicate window, stand-in counters, advice queue).',
    }),
    PROCESSOR_STAGE_TRACE_FILE: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Diagnostics: append one JSON line per authorisation worked on (duplicate key, edge and start times, milliseconds per participant, answer time; no card data) to this file, once a second. About 200 bytes an authorisation and never rotated: for a measurement, not for a production link. Unset: off. `pnpm bench:auth:cpu` with `BENCH_STAGE_TRACE=1` sets it and joins it with the scheme side (tools/load/README.md).',
      }),
    ),
    ADVICE_RETRY_MS: Type.Integer({
      minimum: 10,
      default: 1000,
      description: 'First retry delay of stand-in advice delivery (doubles each attempt).',
    }),
  }),
])

/** Parsed processor configuration. */
export type ProcessorConfig = Static<typeof processorConfigSchema>

/** Read and validate the configuration once, at startup. */
export function loadProcessorConfig(env: Env = process.env): ProcessorConfig {
  return loadConfig(processorConfigSchema, env)
}
