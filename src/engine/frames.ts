// Frame codec of engine/PROTOCOL.md: [u32 frame_len][u32 header_len][msgpack header][pad][blob].
// The blob starts 8-byte aligned from the frame start and each array 8-byte aligned within it, and every
// received frame is copied into its own ArrayBuffer (offset 0), so arrays come back as zero-copy views.
import { decode, encode } from '@msgpack/msgpack';

export const ALIGN = 8;
export const PROTOCOL_ERROR = 'simplerl engine frame';

export type WireDtype = 'f32' | 'f64' | 'i32' | 'i64' | 'u8' | 'bf16';
/** Typed arrays the wire carries; a Uint16Array travels as raw bf16 bits. */
export type WireArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

export interface ArrayDesc {
  dtype: WireDtype;
  shape: number[];
  offset: number;
}

export interface Frame {
  header: Record<string, unknown>;
  arrays: Record<string, WireArray>;
}

const CTORS = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  i64: BigInt64Array,
  u8: Uint8Array,
  bf16: Uint16Array,
} as const;

export class FrameError extends Error {
  override name = 'FrameError';
}

export const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

function dtypeOf(a: WireArray): WireDtype {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof BigInt64Array) return 'i64';
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Uint16Array) return 'bf16';
  throw new FrameError(`${PROTOCOL_ERROR}: unsupported array type ${(a as object).constructor.name}`);
}

/** The frame as a list of buffers: prefix + header + padding, then each array's own bytes (no copy). */
export function encodeFrame(
  header: Record<string, unknown>,
  arrays: Record<string, WireArray> = {},
): Uint8Array[] {
  const descs: Record<string, ArrayDesc> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    descs[name] = { dtype: dtypeOf(a), shape: [a.length], offset };
    if (a.byteLength) parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const padded = align(a.byteLength);
    if (padded > a.byteLength) parts.push(new Uint8Array(padded - a.byteLength));
    offset += padded;
  }
  const head = encode({ ...header, arrays: descs }, { ignoreUndefined: true });
  const blobStart = align(8 + head.byteLength);
  const prefix = new Uint8Array(blobStart);
  const view = new DataView(prefix.buffer);
  view.setUint32(0, blobStart - 4 + offset, true);
  view.setUint32(4, head.byteLength, true);
  prefix.set(head, 8);
  return [prefix, ...parts];
}

/** Decodes a whole frame (length prefix included); arrays are views into `frame` when aligned. */
export function decodeFrame(frame: Uint8Array): Frame {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const frameLen = view.getUint32(0, true);
  const headerLen = view.getUint32(4, true);
  if (frameLen + 4 !== frame.byteLength || 8 + headerLen > frame.byteLength) {
    throw new FrameError(
      `${PROTOCOL_ERROR}: lengths ${frameLen}/${headerLen} do not fit ${frame.byteLength} bytes`,
    );
  }
  const header = decode(frame.subarray(8, 8 + headerLen)) as Record<string, unknown>;
  if (header === null || typeof header !== 'object')
    throw new FrameError(`${PROTOCOL_ERROR}: header is not a map`);
  const blobStart = align(8 + headerLen);
  const arrays: Record<string, WireArray> = {};
  for (const [name, d] of Object.entries((header.arrays ?? {}) as Record<string, ArrayDesc>)) {
    const Ctor = CTORS[d.dtype];
    if (!Ctor) throw new FrameError(`${PROTOCOL_ERROR}: array ${name}: unknown dtype ${d.dtype}`);
    const count = d.shape.reduce((x, y) => x * y, 1);
    const start = frame.byteOffset + blobStart + d.offset;
    if (blobStart + d.offset + count * Ctor.BYTES_PER_ELEMENT > frame.byteLength) {
      throw new FrameError(`${PROTOCOL_ERROR}: array ${name} runs past the blob`);
    }
    const nbytes = count * Ctor.BYTES_PER_ELEMENT;
    // views need element alignment; frames from FrameReader always have it, a copy covers the rest
    const buffer =
      start % Ctor.BYTES_PER_ELEMENT === 0
        ? frame.buffer
        : frame.slice(start - frame.byteOffset, start - frame.byteOffset + nbytes).buffer;
    arrays[name] = new Ctor(buffer as ArrayBuffer, buffer === frame.buffer ? start : 0, count);
  }
  delete header.arrays;
  return { header, arrays };
}

/** Reassembles frames from a byte stream. Each frame lands in a fresh ArrayBuffer (offset 0, so its
 * arrays can be viewed in place). Zero-copy use: read the socket straight into `readTarget()` and report
 * the byte count to `advance()` (Node's `onread` option); `push()` copies from ordinary chunks. */
export class FrameReader {
  private head = new Uint8Array(4);
  private headFill = 0;
  private frame: Uint8Array | null = null;
  private fill = 0;

  /** Where the next bytes belong: the rest of the current frame, or of the next frame's length field. */
  readTarget(): Uint8Array {
    return this.frame ? this.frame.subarray(this.fill) : this.head.subarray(this.headFill);
  }

  /** `n` bytes were written into readTarget(); returns the frame they completed, if any. */
  advance(n: number): Uint8Array | null {
    if (this.frame === null) {
      this.headFill += n;
      if (this.headFill < 4) return null;
      const frameLen = new DataView(this.head.buffer).getUint32(0, true);
      this.frame = new Uint8Array(new ArrayBuffer(4 + frameLen));
      this.frame.set(this.head, 0);
      this.fill = 4;
      this.headFill = 0;
    } else {
      this.fill += n;
    }
    if (this.fill < this.frame.byteLength) return null;
    const done = this.frame;
    this.frame = null;
    return done;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const done: Uint8Array[] = [];
    for (let pos = 0; pos < chunk.byteLength; ) {
      const target = this.readTarget();
      const n = Math.min(target.byteLength, chunk.byteLength - pos);
      target.set(chunk.subarray(pos, pos + n));
      pos += n;
      const frame = this.advance(n);
      if (frame) done.push(frame);
    }
    return done;
  }
}
