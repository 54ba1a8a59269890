/** Prefix of every config error message (tests match on it). */
export const CONFIG_ERROR = 'config error';

/** A bad config: the message names the file, line and key (or the `--set` that caused it). */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly problems: string[] = [message],
  ) {
    super(`${CONFIG_ERROR}: ${message}`);
    this.name = 'ConfigError';
  }
}
