export { defaultPython, ENGINE_DIR, EngineClient, READY_LINE, REPO_ROOT, type Reply } from './client.ts';
export {
  ENGINE_DIED,
  ENGINE_HUNG,
  ENGINE_START_FAILED,
  EngineDiedError,
  EngineError,
  type EngineErrorType,
} from './errors.ts';
export {
  decodeFrame,
  encodeFrame,
  FrameError,
  FrameReader,
  PROTOCOL_ERROR,
  type WireArray,
  type WireDtype,
} from './frames.ts';
export { fromRagged, splitByOffsets, toRagged } from './ragged.ts';
export type * from './types.ts';
