// The dashboard reads only regular files whose real path (symlinks resolved) lies inside the runs folder:
// a symlink inside a run (rollouts/step-000001.jsonl -> /etc/passwd, metrics.jsonl -> elsewhere, a link
// to a directory) is treated as absent, so no file outside the folder is read or even counted. Reads go
// to the resolved path, so a link swapped after the check cannot redirect them.
import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';

export class RunsConfinement {
  private readonly realRoot: string;

  constructor(root: string) {
    this.realRoot = realpathSync(root);
  }

  private isInside(real: string): boolean {
    return (
      real === this.realRoot ||
      real.startsWith(this.realRoot.endsWith(sep) ? this.realRoot : this.realRoot + sep)
    );
  }

  private async resolveInside(
    path: string,
    isWanted: (s: import('node:fs').Stats) => boolean,
  ): Promise<string | null> {
    try {
      const real = await realpath(path);
      return this.isInside(real) && isWanted(await stat(real)) ? real : null;
    } catch {
      return null; // absent or unreadable: nothing to show
    }
  }

  /** The real path of `path` when it is a regular file inside the runs folder, else null. */
  file(path: string): Promise<string | null> {
    return this.resolveInside(path, (s) => s.isFile());
  }

  /** The real path of `path` when it is a directory inside the runs folder, else null. */
  dir(path: string): Promise<string | null> {
    return this.resolveInside(path, (s) => s.isDirectory());
  }
}
