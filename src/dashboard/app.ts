import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { readEvals } from './evals.ts';
import { isLoopbackHost } from './host.ts';
import { BAD_FILTER, parseFilter } from './rollouts.ts';
import type { Run, RunRegistry } from './runs.ts';

export const RUN_NOT_FOUND = 'no such run';
export const FOREIGN_HOST = 'this dashboard answers only to localhost names';
export const MAX_ROLLOUTS_PER_PAGE = 500;
export const INTERNAL_ERROR = 'internal error (details in the dashboard log)';

export interface AppOptions {
  registry: RunRegistry;
  /** How often a live stream looks for appended metrics (polling a size is robust where fs.watch is not). */
  pollMs?: number;
  /** Aborted when the server shuts down: ends the live streams. */
  signal?: AbortSignal;
  /**
   * Refuse requests whose Host header is not a loopback name: a page on another site could otherwise
   * read the dashboard through DNS rebinding. Off when serving remotely (--allow-remote).
   */
  isLoopbackOnly?: boolean;
}

const STATIC_DIR = join(import.meta.dirname, 'static');
const UPLOT_DIR = join(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'), '..');

/** Page assets: ours from src/dashboard/static, uPlot's browser bundle from node_modules (no CDN). */
const ASSETS: Record<string, string> = {
  '/': join(STATIC_DIR, 'index.html'),
  '/static/uPlot.iife.min.js': join(UPLOT_DIR, 'uPlot.iife.min.js'),
  '/static/uPlot.min.css': join(UPLOT_DIR, 'uPlot.min.css'),
};
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
const contentType = (path: string) => CONTENT_TYPES[path.slice(path.lastIndexOf('.') + 1)];

function integer(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return text !== undefined && Number.isInteger(value) && value >= 0 ? value : fallback;
}

/**
 * The dashboard's routes: the page, its assets and a read-only JSON API under /api. Only GET routes
 * exist, and nothing here opens a run's file for writing.
 */
export function createApp({
  registry,
  pollMs = 500,
  signal,
  isLoopbackOnly = true,
}: AppOptions): Hono<{ Variables: { run: Run } }> {
  const app = new Hono<{ Variables: { run: Run } }>();

  if (isLoopbackOnly) {
    app.use(async (c, next) => {
      const host = new URL(c.req.url).hostname; // from the Host header
      if (!isLoopbackHost(host)) return c.json({ error: `${FOREIGN_HOST}, not ${host}` }, 403);
      await next();
    });
  }

  for (const [route, path] of Object.entries(ASSETS)) {
    app.get(route, async (c) => c.body(await readFile(path), 200, { 'content-type': contentType(path) }));
  }
  // The page's own modules: a plain name (no path) of a .js or .css file in static/.
  app.get('/static/:file{[a-z][a-z0-9-]*\\.(?:js|css)}', async (c) => {
    const path = join(STATIC_DIR, c.req.param('file'));
    try {
      return c.body(await readFile(path), 200, { 'content-type': contentType(path) });
    } catch {
      return c.notFound();
    }
  });

  app.get('/api/runs', async (c) => c.json({ root: registry.root, runs: await registry.list() }));

  app.use('/api/runs/:name/*', async (c, next) => {
    const name = c.req.param('name');
    const run = name === undefined ? undefined : await registry.get(name);
    if (!run) return c.json({ error: `${RUN_NOT_FOUND}: ${name}` }, 404);
    c.set('run', run);
    await next();
  });

  app.get('/api/runs/:name/metrics', async (c) => {
    const { metrics } = c.get('run');
    await metrics.refresh();
    return c.json({ ...metrics.slice(integer(c.req.query('from'), 0)), generation: metrics.generation });
  });

  // Server-Sent Events: `metrics` with the rows after `from` whenever the file grew, `reset` when it
  // was replaced (the client then starts over from row 0).
  app.get('/api/runs/:name/metrics/stream', (c) => {
    const { metrics } = c.get('run');
    let sent = integer(c.req.query('from'), 0);
    let generation = integer(c.req.query('generation'), 0);
    return streamSSE(c, async (stream) => {
      let numMalformedSent = -1;
      while (!stream.aborted && !signal?.aborted) {
        await metrics.refresh();
        if (metrics.generation !== generation) {
          generation = metrics.generation;
          sent = 0;
          numMalformedSent = -1;
          await stream.writeSSE({ event: 'reset', data: JSON.stringify({ generation }) });
        }
        if (metrics.numRows > sent || metrics.numMalformed !== numMalformedSent) {
          const slice = metrics.slice(Math.min(sent, metrics.numRows));
          await stream.writeSSE({ event: 'metrics', data: JSON.stringify({ ...slice, generation }) });
          sent = metrics.numRows;
          numMalformedSent = metrics.numMalformed;
        }
        await stream.sleep(pollMs);
      }
    });
  });

  app.get('/api/runs/:name/rollouts', async (c) => {
    const filter = parseFilter(c.req.query()); // BAD_FILTER: answered 400 by onError
    const offset = integer(c.req.query('offset'), 0);
    const limit = Math.min(integer(c.req.query('limit'), 50), MAX_ROLLOUTS_PER_PAGE);
    return c.json(await c.get('run').rollouts.query(filter, offset, limit));
  });

  app.get('/api/runs/:name/evals', async (c) =>
    c.json({ evals: await readEvals(join(c.get('run').dir, 'eval'), c.get('run').confinement) }),
  );

  // Details (message, stack, paths) go to the server's log only; the client gets a plain 500.
  app.onError((err, c) => {
    if (err.message.startsWith(BAD_FILTER)) return c.json({ error: err.message }, 400);
    console.error('simplerl dashboard:', err);
    return c.json({ error: INTERNAL_ERROR }, 500);
  });

  return app;
}
