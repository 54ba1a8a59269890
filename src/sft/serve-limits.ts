// The bounds of `simplerl serve` (one source for the server, its CLI flags and their help texts).

export interface ServeLimits {
  /** Largest request body in bytes; a larger one is refused with 413 before it is parsed. */
  maxBodyBytes: number;
  /** Most work in one request, prompts × n × max_tokens; more is refused with 413. */
  maxRequestTokens: number;
  /** Most work admitted and not yet finished over all requests; a request beyond it gets 429. */
  maxQueuedTokens: number;
  /** Most samples (prompts × n) per engine call; requests share calls round-robin. */
  maxBatchRows: number;
}

export const DEFAULT_SERVE_LIMITS: ServeLimits = {
  maxBodyBytes: 4 * 2 ** 20,
  maxRequestTokens: 2 ** 22,
  maxQueuedTokens: 2 ** 24,
  maxBatchRows: 256,
};

/** CLI flag and help text of each limit. */
export const SERVE_LIMIT_FLAGS: Record<keyof ServeLimits, { flag: string; help: string }> = {
  maxBodyBytes: {
    flag: '--max-body-bytes <n>',
    help: 'largest request body in bytes; larger bodies get HTTP 413 unread',
  },
  maxRequestTokens: {
    flag: '--max-request-tokens <n>',
    help: 'most prompts × n × max_tokens in one request; more gets HTTP 413',
  },
  maxQueuedTokens: {
    flag: '--max-queued-tokens <n>',
    help: 'most prompts × n × max_tokens admitted and unfinished over all requests; a request beyond it gets HTTP 429',
  },
  maxBatchRows: {
    flag: '--max-batch-rows <n>',
    help: 'most samples (prompts × n) in one engine call; waiting requests share each call round-robin',
  },
};
