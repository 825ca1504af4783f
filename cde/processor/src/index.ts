/**
 * @cardplane/processor — the authorisation pipeline, for tools that measure it in process (tools/load).
 * The service itself starts from src/main.ts.
 */
export { AuthorizationPipeline, approvalCodeFor, authorizationIdOf, type FrameResult, type PipelineDeps, type PipelineEvent } from './pipeline/pipeline.js'
export { DuplicateWindow } from './pipeline/duplicate-window.js'
export { standInDecision, DEFAULT_STAND_IN_RULES, type StandInRules } from './pipeline/stand-in.js'
export type { CardCheck, CardVerifier, Decider, AdviceSink, LinkConfig, StoredAnswer } from './pipeline/types.js'
export type { StageTraceEntry } from './pipeline/stage-trace.js'
