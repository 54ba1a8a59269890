export const REMOTE_HOST_REFUSED =
  'refusing to serve the dashboard on a non-loopback host without --allow-remote';

/** 127.0.0.0/8, ::1 and localhost are loopback; everything else (0.0.0.0, ::, a LAN address, a name) is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** The dashboard shows prompts and responses to whoever connects: only loopback unless asked for. */
export function checkHost(host: string, allowRemote: boolean): void {
  if (!allowRemote && !isLoopbackHost(host)) throw new Error(`${REMOTE_HOST_REFUSED} (host ${host})`);
}
