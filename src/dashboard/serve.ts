import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { listenError } from '../util/net.ts';
import { createApp } from './app.ts';
import { checkHost, isLoopbackHost } from './host.ts';
import { RunRegistry } from './runs.ts';

export interface DashboardOptions {
  runsDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Required to bind anything but loopback: the dashboard shows prompts and responses, unauthenticated. */
  allowRemote?: boolean;
  pollMs?: number;
}

export interface Dashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  checkHost(host, options.allowRemote ?? false);
  const registry = new RunRegistry(options.runsDir);
  const shutdown = new AbortController();
  const app = createApp({
    registry,
    pollMs: options.pollMs,
    signal: shutdown.signal,
    isLoopbackOnly: isLoopbackHost(host),
  });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(listenError(err, options.port ?? 0, host));
    server.once('error', onError);
    server.listen(options.port ?? 0, host.replace(/^\[(.*)\]$/, '$1'), () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        shutdown.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // live streams never end on their own
      }),
  };
}
