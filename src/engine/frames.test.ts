import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFrame, encodeFrame, FrameReader } from './frames.ts';
import { fromRagged, splitByOffsets, toRagged } from './ragged.ts';

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
};

describe('frames', () => {
  const arrays = {
    a: new Float32Array([1.5, -2, 3.25]),
    b: new Int32Array([7, -8, 2 ** 31 - 1, 0, 5]),
    c: new BigInt64Array([2n ** 40n, -(2n ** 62n)]),
    d: new Uint8Array([0, 1, 255]),
    e: new Float64Array([Math.PI]),
    f: new Uint16Array([0x3f80]), // bf16 1.0
    g: new Float32Array(0),
  };

  test('round trip keeps every dtype, int64 header values and 8-byte alignment', () => {
    const frame = concat(encodeFrame({ id: 3, op: 'x', args: { big: 2 ** 40, s: 'é' } }, arrays));
    const view = new DataView(frame.buffer);
    assert.equal(view.getUint32(0, true), frame.byteLength - 4);
    const blobStart = Math.ceil((8 + view.getUint32(4, true)) / 8) * 8;
    const { header, arrays: got } = decodeFrame(frame);
    assert.deepEqual(header.args, { big: 2 ** 40, s: 'é' });
    for (const [k, v] of Object.entries(arrays)) {
      assert.deepEqual(got[k], v, k);
      assert.equal(got[k].buffer, frame.buffer, `${k} is a view, not a copy`);
      assert.equal((got[k].byteOffset - blobStart) % 8, 0);
    }
  });

  test('FrameReader reassembles frames split at every byte and glued together', () => {
    const f1 = concat(encodeFrame({ id: 1 }, { a: arrays.a }));
    const f2 = concat(encodeFrame({ id: 2 }, { b: arrays.b }));
    const stream = concat([f1, f2]);
    for (const cut of [1, 3, 4, 5, 17, f1.byteLength, f1.byteLength + 2]) {
      const r = new FrameReader();
      const frames = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      assert.deepEqual(
        frames.map((f) => decodeFrame(f).header.id),
        [1, 2],
      );
      assert.equal(frames[0].byteOffset, 0);
      assert.deepEqual(decodeFrame(frames[1]).arrays.b, arrays.b);
    }
  });

  test('a descriptor outside the blob is rejected', () => {
    const frame = concat(encodeFrame({ id: 1 }, { a: new Float32Array(2) }));
    const cut = frame.slice(0, frame.byteLength - 8);
    new DataView(cut.buffer).setUint32(0, cut.byteLength - 4, true);
    assert.throws(() => decodeFrame(cut), /runs past the blob/);
  });
});

describe('ragged', () => {
  test('toRagged / fromRagged invert each other, empty sequences included', () => {
    const seqs = [[1, 2, 3], [], [4], [5, 6]];
    const r = toRagged(seqs);
    assert.deepEqual(r.offsets, new Int32Array([0, 3, 3, 4, 6]));
    assert.deepEqual(r.ids, new Int32Array([1, 2, 3, 4, 5, 6]));
    assert.deepEqual(fromRagged(r), seqs);
    assert.deepEqual(
      splitByOffsets(new Float32Array([0.5, 1, 2, 3, 4, 5]), r.offsets).map((a) => Array.from(a)),
      [[0.5, 1, 2], [], [3], [4, 5]],
    );
  });
});
