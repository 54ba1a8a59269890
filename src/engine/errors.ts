// Errors of the engine client. Message prefixes are exported so that callers and tests can match them.

export const ENGINE_DIED = 'simplerl engine died';
export const ENGINE_HUNG = 'simplerl engine hung';
export const ENGINE_START_FAILED = 'simplerl engine did not start';

/** Error types the engine sends (PROTOCOL.md "Error types"). */
export type EngineErrorType =
  | 'ProtocolError'
  | 'UnknownOp'
  | 'BadRequest'
  | 'NotLoaded'
  | 'OutOfMemory'
  | 'EngineError';

/** A typed error answered by a live engine; the engine keeps serving. */
export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly type: EngineErrorType | string,
    readonly engineMessage: string,
    readonly op: string,
    readonly traceback?: string,
  ) {
    super(`${op}: ${type}: ${engineMessage}`);
  }
}

/** The engine process is gone (exit, signal, or killed after a heartbeat timeout). Every pending and
 * later call rejects with it; `stderrTail` holds the engine's last stderr lines. */
export class EngineDiedError extends Error {
  override name = 'EngineDiedError';
  constructor(
    readonly reason: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: string,
  ) {
    super(
      `${reason} (exit code ${exitCode}, signal ${signal})${stderrTail ? `; stderr tail:\n${stderrTail}` : ''}`,
    );
  }
}
