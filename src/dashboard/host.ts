import { checkHost as checkServerHost } from '../util/net.ts';

export { isLoopbackHost, REMOTE_HOST_REFUSED } from '../util/net.ts';

/** The dashboard shows prompts and responses to whoever connects: only loopback unless asked for. */
export function checkHost(host: string, allowRemote: boolean): void {
  checkServerHost(host, allowRemote, 'dashboard');
}
