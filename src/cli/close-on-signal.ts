// The foreground loop of a server command (serve, dashboard): run until Ctrl-C or SIGTERM, then close.

/** Resolves once SIGINT or SIGTERM arrives and `close()` has settled (a server's foreground loop). */
export function closeOnSignal(close: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
