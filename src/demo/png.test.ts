import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { renderHtml, renderPanelsPng } from './plots.ts';
import { crc32, encodePng, Raster } from './png.ts';

test('png: crc32 and chunk layout match the PNG specification', () => {
  assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
  const png = encodePng(2, 1, Uint8Array.from([255, 0, 0, 0, 0, 255]));
  assert.equal(png.readUInt32BE(8), 13);
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [2, 1]);
  const idatLen = png.readUInt32BE(33);
  assert.equal(png.subarray(37, 41).toString('latin1'), 'IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLen));
  assert.deepEqual([...raw], [0, 255, 0, 0, 0, 0, 255]);
  assert.equal(png.readUInt32BE(41 + idatLen), crc32(png.subarray(37, 41 + idatLen)));
  assert.throws(() => encodePng(2, 2, new Uint8Array(3)), /bytes for 2×2/);
});

test('png: text and lines land on the canvas, clipped at its edges', () => {
  const r = new Raster(40, 20);
  r.text(1, 1, 'A1', [0, 0, 0], 1);
  r.line(-5, 10, 100, 10, [255, 0, 0], 1);
  const at = (x: number, y: number) => [...r.pixels.subarray((y * 40 + x) * 3, (y * 40 + x) * 3 + 3)];
  assert.deepEqual(at(0, 10), [255, 0, 0]);
  assert.deepEqual(at(39, 10), [255, 0, 0]);
  assert.deepEqual(at(2, 1), [0, 0, 0], 'top of the A');
  assert.deepEqual(at(1, 1), [255, 255, 255]);
});

test('plots: PNG grid and self-contained HTML from curves', () => {
  const panels = [
    {
      title: 'reward',
      curves: [
        {
          label: 'train',
          points: [
            [1, -0.5],
            [2, 0.1],
            [3, Number.NaN],
            [4, 0.4],
          ] as [number, number][],
        },
      ],
    },
    {
      title: 'rate',
      yRange: [0, 1] as [number, number],
      curves: [{ label: 'x', points: [[1, 0.2]] as [number, number][] }],
    },
    { title: 'empty', curves: [] },
  ];
  const png = renderPanelsPng(panels, 2, 300, 200);
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [600, 400]);
  const html = renderHtml('t <x>', panels, '<p>table</p>');
  assert.match(html, /<title>t &lt;x&gt;<\/title>/);
  assert.match(html, /"labels":\["train"\]/);
  assert.match(html, /\[1,2,3,4\],\[-0\.5,0\.1,null,0\.4\]/, 'a NaN is a gap');
  assert.equal(html.match(/<\/script>/g)?.length, 2, 'inlined uPlot cannot close its script early');
});
