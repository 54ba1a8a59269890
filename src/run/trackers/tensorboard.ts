// TensorBoard event files, written by hand: no maintained npm writer exists (@tensorflow/tfjs-node
// downloads libtensorflow at install), and the format is small. A file is a sequence of records
// [u64 length][u32 masked CRC32C of the length][data][u32 masked CRC32C of the data], each data an
// `Event` protobuf (tensorflow/core/util/event.proto): wall_time (1, double), step (2, int64),
// file_version (3, string), summary (5, Summary { repeated Value value = 1 { tag = 1, simple_value = 2 (float) } })
// or session_log (7, SessionLog { status = 1 }, START = 1).

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '@aws-crypto/crc32c';
import type { MetricsRow } from '../metrics.ts';
import type { Tracker } from './tracker.ts';

/** CRC32C masked as TensorFlow's record writer does (a rotate and a constant). */
function maskedCrc(data: Uint8Array): number {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
}

/** A length-delimited protobuf field (wire type 2). */
function bytesField(field: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(data.length)]), data]);
}

function scalarValue(tag: string, value: number): Buffer {
  const v = Buffer.alloc(5);
  v[0] = (2 << 3) | 5; // simple_value: field 2, 32-bit
  v.writeFloatLE(value, 1);
  return Buffer.concat([bytesField(1, Buffer.from(tag)), v]);
}

/** One Event: wall time, step, and either a file version or a summary of scalars. */
export function encodeEvent(
  wallTime: number,
  step: number,
  body: { fileVersion: string } | { scalars: [string, number][] } | { sessionStart: true },
): Buffer {
  const head = Buffer.alloc(9);
  head[0] = (1 << 3) | 1; // wall_time: field 1, 64-bit
  head.writeDoubleLE(wallTime, 1);
  const stepField = Buffer.from([2 << 3, ...varint(step)]);
  let tail: Buffer;
  if ('fileVersion' in body) tail = bytesField(3, Buffer.from(body.fileVersion));
  else if ('sessionStart' in body) tail = bytesField(7, Buffer.from([1 << 3, 1]));
  else
    tail = bytesField(5, Buffer.concat(body.scalars.map(([tag, v]) => bytesField(1, scalarValue(tag, v)))));
  return Buffer.concat([head, stepField, tail]);
}

/** One framed record of an event file. */
export function frameRecord(data: Buffer): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const crcs = Buffer.alloc(8);
  crcs.writeUInt32LE(maskedCrc(len), 0);
  crcs.writeUInt32LE(maskedCrc(data), 4);
  return Buffer.concat([len, crcs.subarray(0, 4), data, crcs.subarray(4)]);
}

/**
 * Writes every numeric value of each metrics row as a scalar under its metrics.jsonl key, into a new
 * `events.out.tfevents.<seconds>.<host>.simplerl` in the run folder. A resumed run adds a file that
 * starts with a SessionLog START at the first step it runs again, so TensorBoard drops the older
 * events of the steps after the checkpoint (as metrics.jsonl drops their rows).
 */
export class TensorBoardTracker implements Tracker {
  readonly path: string;
  private readonly fd: number;

  constructor(dir: string, resumeStep = 0) {
    const now = Date.now() / 1000;
    this.path = join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.simplerl`);
    this.fd = openSync(this.path, 'a');
    this.write(encodeEvent(now, 0, { fileVersion: 'brain.Event:2' }));
    if (resumeStep > 0) this.write(encodeEvent(now, resumeStep + 1, { sessionStart: true }));
  }

  log(row: MetricsRow): void {
    const scalars = Object.entries(row).filter(
      (e): e is [string, number] => e[0] !== 'step' && typeof e[1] === 'number',
    );
    this.write(encodeEvent(Date.now() / 1000, row.step, { scalars }));
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }

  private write(event: Buffer): void {
    writeSync(this.fd, frameRecord(event));
    fsyncSync(this.fd);
  }
}
