import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MALFORMED_JSON, MALFORMED_NOT_OBJECT, MALFORMED_STEP, parseMetricsLine } from '../run/metrics.ts';
import { MetricsStore } from './metrics-store.ts';

describe('parseMetricsLine', () => {
  it('accepts an object with an integer step', () => {
    assert.deepEqual(parseMetricsLine('{"step":3,"time":"2026-01-01T00:00:00Z"}'), {
      row: { step: 3, time: '2026-01-01T00:00:00Z' },
    });
  });
  it('names why a line is malformed', () => {
    assert.deepEqual(parseMetricsLine('{"step":1,'), { error: MALFORMED_JSON });
    assert.deepEqual(parseMetricsLine('[1,2]'), { error: MALFORMED_NOT_OBJECT });
    assert.deepEqual(parseMetricsLine('{"step":1.5}'), { error: MALFORMED_STEP });
    assert.deepEqual(parseMetricsLine('{"reward/mean":1}'), { error: MALFORMED_STEP });
  });
});

describe('MetricsStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplerl-metrics-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads columns, skips and counts malformed lines', async () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(
      path,
      '{"step":0,"a":1,"time":"t"}\nnot json\n{"step":1,"a":2,"b":5}\n\n{"step":2,"b":6,"a":null,"c":"x"}\n',
    );
    const store = new MetricsStore(path);
    await store.refresh();
    assert.deepEqual(store.steps, [0, 1, 2]);
    assert.deepEqual(store.columns.get('a'), [1, 2, null]);
    assert.deepEqual(store.columns.get('b'), [null, 5, 6]);
    assert.deepEqual([...store.columns.keys()], ['a', 'b']); // time and c are not numbers
    assert.equal(store.numMalformed, 1);
    assert.deepEqual(store.malformed, [{ line: 2, reason: MALFORMED_JSON }]);
  });

  it('tails appended bytes and waits for a partial line to end', async () => {
    const path = join(dir, 'b.jsonl');
    writeFileSync(path, '{"step":0,"a":1}\n{"step":1,');
    const store = new MetricsStore(path);
    await store.refresh();
    assert.deepEqual(store.steps, [0]);
    appendFileSync(path, '"a":2}\n{"step":2,"a":3}\n');
    await store.refresh();
    assert.deepEqual(store.steps, [0, 1, 2]);
    const slice = store.slice(1);
    assert.deepEqual(
      { ...slice, columns: { ...slice.columns } },
      {
        from: 1,
        steps: [1, 2],
        columns: { a: [2, 3] },
        numRows: 3,
        numLines: 3,
        numMalformed: 0,
        malformed: [],
      },
    );
  });

  it('starts over when the file shrank, and shows nothing for a missing file', async () => {
    const path = join(dir, 'c.jsonl');
    const store = new MetricsStore(path);
    await store.refresh();
    assert.equal(store.numRows, 0);
    writeFileSync(path, '{"step":0,"a":1}\n{"step":1,"a":2}\n');
    await store.refresh();
    writeFileSync(path, '{"step":7,"z":1}\n');
    await store.refresh();
    assert.deepEqual(store.steps, [7]);
    assert.deepEqual([...store.columns.keys()], ['z']);
    assert.equal(store.generation, 1);
    writeFileSync(`${path}.tmp`, '{"step":0,"y":1}\n{"step":1,"y":2}\n{"step":2,"y":3}\n');
    renameSync(`${path}.tmp`, path); // longer, but another file
    await store.refresh();
    assert.deepEqual(store.steps, [0, 1, 2]);
    assert.deepEqual([...store.columns.keys()], ['y']);
    assert.equal(store.generation, 2);
  });

  it('handles multi-byte characters and many rows across reads', async () => {
    const path = join(dir, 'd.jsonl');
    const lines = Array.from({ length: 5000 }, (_, i) =>
      JSON.stringify({ step: i, 'r/é': i / 2, note: 'ü' }),
    );
    writeFileSync(path, `${lines.join('\n')}\n`);
    const store = new MetricsStore(path);
    await Promise.all([store.refresh(), store.refresh()]);
    assert.equal(store.numRows, 5000);
    assert.equal(store.columns.get('r/é')?.[4999], 2499.5);
  });
});
