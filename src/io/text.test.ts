import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { type ReadDocumentsOptions, readDocuments, streamText } from './text.js';

const shared = process.env.LOUPE_SHARED ?? fileURLToPath(new URL('../../../shared', import.meta.url));
const tinystories = path.join(shared, 'data/tinystories-sample.txt');
const noTinystories = fs.existsSync(tinystories) ? false : `corpus not found at ${tinystories} (set LOUPE_SHARED to the shared folder)`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-text-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

async function collect(iter: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const doc of iter) out.push(doc);
  return out;
}

async function rejectsWith(iter: AsyncIterable<string>, pattern: RegExp): Promise<void> {
  await assert.rejects(collect(iter), (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

// Multi-byte characters (2, 3 and 4 bytes in UTF-8) so small chunks split them.
const plain = '\uFEFF\n\nÉté à Paris.\r\nSecond line of doc one.\n\n  \n\t\n日本語 doc two 🙂\n\nlast doc, no final newline';
const plainDocs = ['Été à Paris.\nSecond line of doc one.', '日本語 doc two 🙂', 'last doc, no final newline'];

test('plain text splits on blank lines, identically for every chunk size', async () => {
  const file = write('plain.txt', plain);
  for (const chunkBytes of [1, 2, 3, 5, 7, 64, undefined]) {
    assert.deepEqual(await collect(readDocuments(file, { chunkBytes })), plainDocs, `chunkBytes ${chunkBytes}`);
  }
});

test('line, whole and single-newline modes', async () => {
  const file = write('modes.txt', plain);
  assert.deepEqual(await collect(readDocuments(file, { split: 'line', chunkBytes: 4 })), [
    'Été à Paris.', 'Second line of doc one.', '日本語 doc two 🙂', 'last doc, no final newline',
  ]);
  assert.deepEqual(await collect(readDocuments(file, { split: 'whole', chunkBytes: 4 })), [plain.slice(1)]);
  const stories = write('stories.txt', 'Story one, para one.\n\nStory one, para two.\nStory two.\n\n\nStory two, para two.\n\nStory three? no: same story.\nStory three.\n');
  assert.deepEqual(await collect(readDocuments(stories, { split: 'single-newline', chunkBytes: 3 })), [
    'Story one, para one.\n\nStory one, para two.',
    'Story two.\n\n\nStory two, para two.\n\nStory three? no: same story.',
    'Story three.',
  ]);
});

test('streamText yields the whole file as one stream', async () => {
  const file = write('stream.txt', plain);
  const pieces = await collect(streamText(file, { chunkBytes: 5 }));
  assert.ok(pieces.length > 10);
  assert.equal(pieces.join(''), plain.slice(1)); // BOM removed, everything else kept
});

test('JSONL: default and custom fields, chosen by extension or option', async () => {
  const rows = [{ text: 'first é', id: 1 }, { text: '', id: 2 }, { text: 'second\nwith newline', id: 3, body: 'b' }];
  const file = write('rows.jsonl', rows.map((r) => JSON.stringify(r)).join('\r\n') + '\n\n');
  assert.deepEqual(await collect(readDocuments(file, { chunkBytes: 6 })), ['first é', 'second\nwith newline']);
  const other = write('rows.data', JSON.stringify({ body: 'x' }) + '\n' + JSON.stringify({ body: 'y' }));
  assert.deepEqual(await collect(readDocuments(other, { format: 'jsonl', field: 'body' })), ['x', 'y']);
});

test('JSONL errors name file and line', async () => {
  const bad = write('bad.jsonl', '{"text": "ok"}\n\n{"text": "broken"\n');
  await rejectsWith(readDocuments(bad), /bad\.jsonl:3: expected a JSON object per line, found invalid JSON/);
  const missing = write('missing.jsonl', '{"content": "a", "id": 1}\n');
  await rejectsWith(readDocuments(missing), /missing\.jsonl:1: expected a string field "text", found no such field \(fields: content, id\)/);
  const notObject = write('array.jsonl', '["text"]\n');
  await rejectsWith(readDocuments(notObject), /array\.jsonl:1: expected a JSON object per line, found an array/);
  const numeric = write('numeric.jsonl', '{"text": 5}\n');
  await rejectsWith(readDocuments(numeric), /found number/);
});

test('empty, blank-only and missing files', async () => {
  await rejectsWith(readDocuments(write('empty.txt', '')), /empty file, no documents/);
  await rejectsWith(readDocuments(write('blank.txt', '\n  \n\t\n')), /no documents found/);
  await rejectsWith(readDocuments(write('empty-rows.jsonl', '{"text": ""}\n')), /no documents found/);
  await rejectsWith(streamText(write('ws.txt', '   \n')), /no text found/);
  await rejectsWith(readDocuments(path.join(dir, 'absent.txt')), /absent\.txt: no such file or directory/);
  await rejectsWith(readDocuments(write('opt.txt', 'x'), { split: 'para' as 'line' }), /unknown split "para"/);
});

test('binary files are refused', async () => {
  await rejectsWith(readDocuments(write('nul.bin', Uint8Array.from([0x68, 0x69, 0x00, 0x01, 0x0a]))), /looks binary \(NUL byte at offset 2\)/);
  await rejectsWith(readDocuments(write('latin1.txt', Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x0a, 0x78]))), /looks binary \(invalid UTF-8/);
  const noNul = Uint8Array.from({ length: 300 }, (_, i) => 0x80 + (i % 100));
  await rejectsWith(streamText(write('noise.bin', noNul)), /looks binary/);
  // Invalid UTF-8 after the first chunk is still an error, with a position.
  const late = new Uint8Array([...new TextEncoder().encode('fine text\n'.repeat(10)), 0xff, 0x0a]);
  await rejectsWith(readDocuments(write('late.txt', late), { chunkBytes: 16 }), /invalid UTF-8 between bytes/);
});

test('tinystories-sample.txt: 3955 blank-line paragraphs, 1023 single-newline stories', { skip: noTinystories }, async () => {
  const count = async (options: ReadDocumentsOptions): Promise<number> => {
    let n = 0;
    for await (const doc of readDocuments(tinystories, options)) {
      assert.ok(doc.trim().length > 0);
      n++;
    }
    return n;
  };
  // Counts computed independently (python: runs of non-blank lines; non-blank lines directly followed by another, + 1).
  assert.equal(await count({ chunkBytes: 4096 }), 3955);
  const stories = await collect(readDocuments(tinystories, { split: 'single-newline' }));
  assert.equal(stories.length, 1023);
  assert.ok(stories[0].startsWith('One day, a little girl named Lily found a needle'));
  assert.ok(stories[1].startsWith('Once upon a time, there was a little car named Beep.'));
});
