export { mapOtlpRequest } from "./map-request.ts";
export { encodeOtlpResponse, encodeOtlpStatus } from "./response.ts";
export { CLAUDE_CODE_OTLP_EVENT_TYPE } from "./map-claude-code.ts";
export { OtlpDecodeError, type MappedRecord, type OtlpEncoding, type OtlpMapping, type OtlpSignal } from "./types.ts";
