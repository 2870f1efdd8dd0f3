// Text corpora as async iterables of documents, read in chunks so a file of any size streams in bounded
// memory (bounded by the longest document, not the file).
import * as fsp from 'node:fs/promises';
import { InputError } from '../errors.js';
import { asInputError } from './files.js';

export interface ReadDocumentsOptions {
  /** 'jsonl' for one JSON object per line; default: 'jsonl' for .jsonl/.ndjson files, else 'text'. */
  format?: 'text' | 'jsonl';
  /** JSONL: the field holding each document's text (default "text"). */
  field?: string;
  /**
   * Plain text: 'blank-line' (default) splits documents on blank (or whitespace-only) lines; 'line' makes
   * each non-blank line a document; 'whole' yields the entire file as one document (held in memory; use
   * streamText for a large file with no document structure); 'single-newline' ends a document where a
   * non-blank line is directly followed by another, while blank lines separate paragraphs inside a
   * document (the layout of TinyStories dumps such as tinystories-sample.txt).
   */
  split?: 'blank-line' | 'line' | 'whole' | 'single-newline';
  /** Bytes per read (default 1 MiB). */
  chunkBytes?: number;
}

const DEFAULT_CHUNK = 1 << 20;

/**
 * Stream the documents of a plain-text or JSONL file. Plain-text documents keep their inner newlines
 * (CRLF becomes LF); blank-only documents are skipped, as are JSONL rows whose text is empty. Throws
 * InputError for a missing, empty or binary file, a file with no documents, or a malformed JSONL row
 * (naming file:line).
 */
export async function* readDocuments(file: string, options: ReadDocumentsOptions = {}): AsyncGenerator<string> {
  const format = options.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'text');
  const split = options.split ?? 'blank-line';
  if (format !== 'text' && format !== 'jsonl') throw new InputError(`readDocuments: unknown format ${JSON.stringify(format)} (expected text or jsonl)`);
  if (!['blank-line', 'line', 'whole', 'single-newline'].includes(split)) {
    throw new InputError(`readDocuments: unknown split ${JSON.stringify(split)} (expected blank-line, line, whole or single-newline)`);
  }
  const chunks = decodedChunks(file, options.chunkBytes ?? DEFAULT_CHUNK);
  let count = 0;
  if (format === 'jsonl') {
    const field = options.field ?? 'text';
    let lineNo = 0;
    for await (const line of lines(chunks)) {
      lineNo++;
      if (line.trim() === '') continue;
      const text = jsonlText(line, field, `${file}:${lineNo}`);
      if (text === '') continue;
      count++;
      yield text;
    }
  } else if (split === 'whole') {
    let text = '';
    for await (const chunk of chunks) text += chunk;
    if (text.trim() !== '') {
      count++;
      yield text;
    }
  } else if (split === 'line') {
    for await (const line of lines(chunks)) {
      if (line.trim() === '') continue;
      count++;
      yield line;
    }
  } else if (split === 'blank-line') {
    let doc: string[] = [];
    for await (const line of lines(chunks)) {
      if (line.trim() !== '') {
        doc.push(line);
        continue;
      }
      if (doc.length) {
        count++;
        yield doc.join('\n');
        doc = [];
      }
    }
    if (doc.length) {
      count++;
      yield doc.join('\n');
    }
  } else {
    // single-newline
    let doc: string[] = [];
    let prevBlank = true;
    for await (const line of lines(chunks)) {
      const blank = line.trim() === '';
      if (!blank && !prevBlank && doc.length) {
        count++;
        yield withoutTrailingBlanks(doc).join('\n');
        doc = [];
      }
      if (!blank || doc.length) doc.push(line);
      prevBlank = blank;
    }
    if (doc.length) {
      count++;
      yield withoutTrailingBlanks(doc).join('\n');
    }
  }
  if (count === 0) {
    throw new InputError(`${file}: no documents found (the file holds only blank lines${format === 'jsonl' ? ' or empty texts' : ''})`, {
      path: file,
    });
  }
}

/**
 * The whole file as one continuous stream of text pieces (concatenated, they are the file's text minus a
 * UTF-8 BOM). For corpora with no document boundaries, e.g. Tiny Shakespeare.
 */
export async function* streamText(file: string, options: { chunkBytes?: number } = {}): AsyncGenerator<string> {
  let any = false;
  for await (const chunk of decodedChunks(file, options.chunkBytes ?? DEFAULT_CHUNK)) {
    if (chunk.trim() !== '') any = true;
    yield chunk;
  }
  if (!any) throw new InputError(`${file}: no text found (only whitespace)`, { path: file });
}

function jsonlText(line: string, field: string, where: string): string {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (err) {
    throw new InputError(`${where}: expected a JSON object per line, found invalid JSON (${(err as Error).message})`, { where });
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    throw new InputError(`${where}: expected a JSON object per line, found ${Array.isArray(row) ? 'an array' : JSON.stringify(row)}`, { where });
  }
  const text = (row as Record<string, unknown>)[field];
  if (typeof text !== 'string') {
    const keys = Object.keys(row).slice(0, 8).join(', ');
    throw new InputError(
      `${where}: expected a string field "${field}", found ${text === undefined ? `no such field (fields: ${keys})` : typeof text}`,
      { where, field },
    );
  }
  return text;
}

/** Split decoded chunks into lines without their terminators ('\n' or '\r\n'). */
async function* lines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let carry = '';
  for await (const chunk of chunks) {
    const text = carry + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      yield stripCR(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  if (carry !== '') yield stripCR(carry);
}

function withoutTrailingBlanks(doc: string[]): string[] {
  let end = doc.length;
  while (end > 0 && doc[end - 1].trim() === '') end--;
  return doc.slice(0, end);
}

function stripCR(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Read a file in chunks and decode UTF-8 across chunk boundaries. The first chunk is checked for signs of
 * a binary file (NUL bytes, invalid UTF-8); later invalid UTF-8 is reported with its byte position.
 */
async function* decodedChunks(file: string, chunkBytes: number): AsyncGenerator<string> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new InputError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    throw asInputError(err, file);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new InputError(`${file}: expected a regular file`, { path: file });
    if (stat.size === 0) throw new InputError(`${file}: empty file, no documents`, { path: file });
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const buffer = new Uint8Array(chunkBytes);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, position);
      const bytes = buffer.subarray(0, bytesRead);
      if (position === 0) {
        const nul = bytes.indexOf(0);
        if (nul !== -1) throw new InputError(`${file}: looks binary (NUL byte at offset ${nul}); expected UTF-8 text`, { path: file });
      }
      let text: string;
      try {
        text = decoder.decode(bytes, { stream: bytesRead > 0 });
      } catch {
        throw new InputError(
          position === 0
            ? `${file}: looks binary (invalid UTF-8 in the first ${bytesRead} bytes); expected UTF-8 text`
            : `${file}: invalid UTF-8 between bytes ${Math.max(0, position - 4)} and ${position + bytesRead}`,
          { path: file },
        );
      }
      if (text) yield text;
      if (bytesRead === 0) return;
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
