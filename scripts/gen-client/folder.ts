/**
 * The generated folder on disk against what the generator prints: which files differ, and
 * writing them. The folder belongs to the generator: a file in it that the generator no longer
 * prints (a tag renamed, a split merged back) is stale and is deleted on write.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

function filesUnder(root: string, dir = root): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no folder yet
  }
  return names.flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(root, full) : [relative(root, full).split(sep).join('/')];
  });
}

export interface Difference {
  readonly file: string;
  readonly kind: 'missing' | 'changed' | 'extra';
  /** for a changed file: the first line that differs (1-based), the committed and the fresh text */
  readonly line?: { readonly at: number; readonly committed: string | undefined; readonly fresh: string | undefined };
}

/** Every way the folder `root` differs from `files` (path relative to root → text), sorted by file. */
export function differences(root: string, files: ReadonlyMap<string, string>): Difference[] {
  const onDisk = new Set(filesUnder(root));
  const found: Difference[] = [];
  for (const [file, text] of files) {
    if (!onDisk.has(file)) {
      found.push({ file, kind: 'missing' });
      continue;
    }
    const committed = readFileSync(join(root, file), 'utf8');
    if (committed === text) continue;
    const a = committed.split('\n');
    const b = text.split('\n');
    const at = a.findIndex((l, i) => l !== b[i]);
    const index = at === -1 ? a.length : at;
    found.push({ file, kind: 'changed', line: { at: index + 1, committed: a[index], fresh: b[index] } });
  }
  for (const file of onDisk) if (!files.has(file)) found.push({ file, kind: 'extra' });
  return found.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
}

export function describe(d: Difference): string {
  if (d.kind !== 'changed' || d.line === undefined) return `${d.file}: ${d.kind}`;
  return `${d.file}: changed at line ${d.line.at} (${JSON.stringify(d.line.committed)} vs ${JSON.stringify(d.line.fresh)})`;
}

/** Makes the folder `root` hold exactly `files`; answers what it changed. */
export function writeFolder(root: string, files: ReadonlyMap<string, string>): Difference[] {
  const changes = differences(root, files);
  for (const { file, kind } of changes) {
    const full = join(root, file);
    if (kind === 'extra') {
      rmSync(full);
    } else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, files.get(file)!);
    }
  }
  return changes;
}
