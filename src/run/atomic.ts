import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

/** Flushes a directory entry (a rename is durable only once its directory is synced). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `path` so that it exists either complete (old or new content) or not at all: npm's
 * write-file-atomic writes a uniquely named temporary file, fsyncs it and renames it into place (and
 * removes it on failure); the directory is then synced so the rename survives a power loss.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomicLib.sync(path, typeof data === 'string' ? data : Buffer.from(data), { fsync: true });
  fsyncDir(dirname(path));
}
