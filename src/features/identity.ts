// Content hashes of the files a feature database depends on, so a later command can tell that a model
// or dictionary at the recorded path is no longer the one the features were computed from.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';

/** sha256 of a file, streamed (bounded memory), or of a directory's regular files (names and contents, sorted). */
export async function sha256Path(p: string): Promise<string> {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new InputError(`${p}: no such file or directory`, { path: p });
  }
  if (!st.isDirectory()) return sha256File(p);
  const outer = createHash('sha256');
  const names = fs.readdirSync(p).filter((n) => fs.statSync(path.join(p, n)).isFile()).sort();
  for (const name of names) outer.update(`${name}\0${await sha256File(path.join(p, name))}\n`);
  return outer.digest('hex');
}

/** sha256 of the named files of a directory (names and contents), e.g. a dictionary's cfg.json and weights. */
export async function sha256Files(dir: string, names: readonly string[]): Promise<string> {
  const outer = createHash('sha256');
  for (const name of [...names].sort()) outer.update(`${name}\0${await sha256File(path.join(dir, name))}\n`);
  return outer.digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', (err) => reject(new InputError(`${file}: cannot read (${err.message})`, { path: file })));
  });
  return hash.digest('hex');
}

/** sha256 of a string (identities of synthetic sources). */
export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
