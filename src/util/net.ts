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

export const REMOTE_HOST_REFUSED = 'refusing to listen on a non-loopback host without --allow-remote';

/** 127.0.0.0/8, ::1 and localhost are loopback; everything else (0.0.0.0, ::, a LAN address, a name) is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Servers of simplerl show prompts, responses and a model to whoever connects: loopback only unless
 * the user asks for more. `what` names the server in the error.
 */
export function checkHost(host: string, allowRemote: boolean, what: string): void {
  if (!allowRemote && !isLoopbackHost(host))
    throw new Error(`${REMOTE_HOST_REFUSED} (${what}, host ${host})`);
}
