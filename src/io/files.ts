// File plumbing shared by the readers and writers: opening with errors a user can act on, reading an exact
// byte range, and atomic replacement (temp file + fsync + rename) so an interrupted write never leaves a
// half-written file where a good one was.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FormatError, InputError } from '../errors.js';
import { HOST_LITTLE_ENDIAN, byteSwapInPlace } from '../tensor/dtype.js';

/** Open a file for reading; a missing file or a directory becomes an InputError naming the path. */
export function openForRead(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw asInputError(err, file);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InputError(`${file}: expected a regular file`, { path: file });
    return { fd, size: st.size };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** Translate common Node fs errors into InputError; anything else passes through unchanged. */
export function asInputError(err: unknown, file: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new InputError(`${file}: no such file or directory`, { path: file });
  if (code === 'ENOTDIR') return new InputError(`${file}: a component of the path is not a directory`, { path: file });
  if (code === 'EISDIR') return new InputError(`${file}: expected a file, found a directory`, { path: file });
  if (code === 'EACCES' || code === 'EPERM') return new InputError(`${file}: permission denied`, { path: file });
  return err;
}

/** Fill `target` from the file starting at byte `position`; a short file is a FormatError. */
export function readExactly(fd: number, target: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < target.length) {
    // readSync takes at most 2 GiB - 1 per call.
    const want = Math.min(target.length - done, 0x40000000);
    const got = fs.readSync(fd, target, done, want, position + done);
    if (got === 0) {
      throw new FormatError(
        file,
        `unexpected end of file: needed bytes ${position}..${position + target.length}, file ends at ${position + done}`,
      );
    }
    done += got;
  }
}

/** Write all of `bytes` at the current position of `fd`. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, 0x40000000));
}

/** A sibling path that no other writer will pick: same directory so rename is atomic. */
export function tempSibling(target: string, tag = 'tmp'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Replace `target` atomically: `write(fd)` fills a temp file beside it, which is flushed to disk and then
 * renamed over the target. If anything throws (including a full disk), the temp file is removed and the
 * previous target is untouched.
 */
export function writeFileAtomic(target: string, write: (fd: number) => void): void {
  const tmp = tempSibling(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    write(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw asInputError(err, target);
  }
  fsyncDirectory(path.dirname(target));
}

/** Make a rename durable. Best effort: some platforms cannot open a directory for fsync. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not supported here (e.g. Windows); the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Bytes of a typed array in file (little-endian) order, without copying on little-endian hosts. */
export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * The little-endian bytes of a typed array, for writing: a view on little-endian hosts, a swapped copy on
 * big-endian ones.
 */
export function littleEndianBytes(view: ArrayBufferView, itemSize: number): Uint8Array {
  const bytes = bytesOf(view);
  if (HOST_LITTLE_ENDIAN || itemSize === 1) return bytes;
  const copy = new Uint8Array(bytes);
  byteSwapInPlace(copy, itemSize);
  return copy;
}

/** After reading little-endian data into a typed array's bytes: fix the order on big-endian hosts. */
export function fromLittleEndian(bytes: Uint8Array, itemSize: number): void {
  if (!HOST_LITTLE_ENDIAN) byteSwapInPlace(bytes, itemSize);
}
