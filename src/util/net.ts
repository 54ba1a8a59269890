// Errors of binding a TCP port, said the way a user acts on them (shared by serve and the dashboard).

export const PORT_IN_USE = 'port in use';

/** A listen() error with the host, the port and the fix; other errors pass through unchanged. */
export function listenError(err: Error & { code?: string }, port: number, host: string): Error {
  if (err.code === 'EADDRINUSE')
    return new Error(
      `${PORT_IN_USE}: ${host}:${port} is taken by another process (another server?): choose another --port, or --port 0 for a free one`,
    );
  if (err.code === 'EACCES')
    return new Error(`cannot listen on ${host}:${port}: permission denied (${err.message})`);
  if (err.code === 'EADDRNOTAVAIL')
    return new Error(`cannot listen on ${host}:${port}: no such address on this machine (check --host)`);
  return err;
}
