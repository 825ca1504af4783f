/**
 * @cardplane/iso8583 — ISO 8583 codec driven by JSON spec documents.
 * See README.md for the API, the message JSON shape, the spec format and the error codes.
 */
export { Iso8583Error, Iso8583DecodeError, Iso8583EncodeError, Iso8583FrameError, Iso8583SpecError, type Iso8583ErrorCode } from './errors.js'
export { TAG_ORDER, type Composite, type FieldValue, type Message } from './message-types.js'
export type { CompositeSpec, FieldSpec, FieldType, Encoding, PrefixSpec, SpecDocument } from './spec-types.js'
export { Iso8583Spec } from './message.js'
export type { FieldCodec } from './field.js'
export { BUILTIN_SPECS, compileSpec, getSpec, loadSpecFile, type BuiltinSpecName } from './specs.js'
export { specProblems, validateSpec } from './spec-validate.js'
export { decodeTlv, encodeTlv, findTlv, type TlvNode } from './tlv.js'
export { describe, maskPan, ALWAYS_MASKED, type DescribeOptions } from './describe.js'
export { messageFromJson, messageToJson, cloneValue, type JsonFieldValue } from './json.js'
export { respond, responseMti, getPath, setPath, type RespondOptions } from './response.js'
export { frame, unframe, readFrameLength, FrameSplitter, FRAME_HEADER_SIZE, type FrameEvent, type FramingKind, type FrameSplitterOptions } from './framing.js'
export {
  VisaHeader,
  decodeVisaHeader,
  encodeVisaHeader,
  newVisaHeader,
  visaResponseHeader,
  splitVisaMessage,
  VISA_HEADER_LENGTH,
  VISA_REJECT_HEADER_LENGTH,
} from './visa-header.js'
export { ASCII, CP037, CP1047, encodeText, decodeText, type Charset } from './charsets.js'
