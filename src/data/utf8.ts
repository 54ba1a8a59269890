// Reading a text data file as strict UTF-8: `readFile(path, 'utf8')` turns bad bytes into U+FFFD
// silently (a Latin-1 file then trains on garbled prompts). TextDecoder with `fatal` refuses them, and
// on failure the file is decoded line by line to name the first bad line.
import { readFile } from 'node:fs/promises';

export const NOT_UTF8 = 'not UTF-8';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** `path:line: not UTF-8 (...)` for the first line of `buf` that does not decode. */
function firstBadLine(path: string, buf: Buffer): string {
  let start = 0;
  for (let line = 1; start <= buf.length; line++) {
    const end = buf.indexOf(0x0a, start);
    const stop = end < 0 ? buf.length : end;
    try {
      decoder.decode(buf.subarray(start, stop));
    } catch {
      return `${path}:${line}: ${NOT_UTF8} (invalid byte sequence in this line; re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8)`;
    }
    start = stop + 1;
  }
  return `${path}: ${NOT_UTF8}`; // a sequence cut by a newline cannot happen (0x0a is never a continuation byte)
}

/** The file's text; throws `<prefix>: <path>:<line>: not UTF-8 ...` naming the first bad line. */
export async function readUtf8Strict(path: string, prefix: string): Promise<string> {
  const buf = await readFile(path);
  try {
    return decoder.decode(buf);
  } catch (err) {
    throw new Error(`${prefix}: ${firstBadLine(path, buf)}`, { cause: err });
  }
}
