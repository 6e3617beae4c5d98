/**
 * `continuum device import FILE.csv`: sends the file to /api/devices/import in chunks of 1,000
 * rows (each chunk repeats the header), shows progress on stderr, then reports rejected rows by
 * their line in FILE. Chunks are exact slices of the file, so line numbers map back by an offset.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { CONNECTION_HELP, CliError, connect, intFlag, parseCommand, writeJson, type Io } from './common.js';
import { ProgressBar } from './progress.js';

export const IMPORT_HELP = `Usage: continuum device import FILE.csv [--chunk N] [--json]

Creates devices from a CSV file with a header row. Columns (only name is required):
  name, label, profile (profile name), type (gateway: true/false), accessToken,
  clientId, username, password, certificateFingerprint
Valid rows are created; rejected rows are listed with their line number in FILE.
Access tokens the platform generates (rows without credentials) are printed once:
the platform keeps only their hashes.
Exit status: 0 all rows created, 2 some rows rejected, 1 the import failed.

${CONNECTION_HELP}`;

export const DEFAULT_CHUNK_ROWS = 1000;

export interface CsvChunk {
  /** Header plus up to chunk-size records, byte-for-byte as in the file. */
  readonly text: string;
  readonly rows: number;
  /** Add to a line number inside `text` to get the line in the file. */
  readonly lineOffset: number;
}

interface InfoRecord {
  /** Byte offset just past the record (and its line break) in the input buffer. */
  readonly info: { readonly bytes: number };
}

function newlines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * Splits a CSV file into chunks of `chunkRows` records, each prefixed with the header. Records
 * are cut at the byte offsets csv-parse reports, so quoted line breaks and CRLF survive intact.
 */
export function splitCsv(text: string | Buffer, chunkRows: number): { chunks: CsvChunk[]; total: number } {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let records: InfoRecord[];
  try {
    records = parse(buf, { info: true, skip_empty_lines: true, relax_column_count: true, bom: true }) as unknown as InfoRecord[];
  } catch (err) {
    throw new CliError(`not valid CSV: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header) throw new CliError('the file is empty: a header row is required');
  const headerBytes = buf.subarray(0, header.info.bytes);
  const headerText = headerBytes.toString('utf8');
  const headerLines = newlines(headerBytes);
  const chunks: CsvChunk[] = [];
  let start = header.info.bytes;
  let linesBefore = headerLines;
  for (let i = 0; i < rows.length; i += chunkRows) {
    const slice = rows.slice(i, i + chunkRows);
    const end = slice[slice.length - 1]?.info.bytes ?? start;
    const body = buf.subarray(start, end);
    // A line in the chunk past the header maps to the same line of the file shifted by this offset.
    chunks.push({ text: headerText + body.toString('utf8'), rows: slice.length, lineOffset: linesBefore - headerLines });
    linesBefore += newlines(body);
    start = end;
  }
  return { chunks, total: rows.length };
}

interface ImportError {
  row: number;
  name?: string;
  message: string;
}

export async function runImport(argv: string[], io: Io): Promise<number> {
  const parsed = parseCommand(argv, { chunk: { type: 'string' } });
  const v = parsed.values;
  if (v.help) return io.stdout.write(IMPORT_HELP + '\n'), 0;
  const [file, ...extra] = parsed.positionals;
  if (!file) throw new CliError('device import needs a CSV file (see continuum device import --help)');
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  const chunkRows = intFlag(v.chunk, 'chunk') ?? DEFAULT_CHUNK_ROWS;
  if (chunkRows < 1) throw new CliError('--chunk must be at least 1');

  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const { chunks, total } = splitCsv(text, chunkRows);
  const client = await connect(parsed, io.env);

  const bar = new ProgressBar(io.stderr, total);
  bar.update(0);
  let created = 0;
  let done = 0;
  const errors: ImportError[] = [];
  const generated: { name: string; id: string; accessToken: string }[] = [];
  for (const chunk of chunks) {
    let result: { created: number; devices: { name: string; id: string; accessToken?: string }[]; errors: ImportError[] };
    try {
      result = await client.request('POST', '/api/devices/import', { text: chunk.text, contentType: 'text/csv' });
    } catch (err) {
      bar.finish();
      throw new CliError(`import stopped after ${done} of ${total} rows (${created} created): ${(err as Error).message}`);
    }
    created += result.created;
    for (const d of result.devices) if (d.accessToken !== undefined) generated.push({ name: d.name, id: d.id, accessToken: d.accessToken });
    for (const e of result.errors) errors.push({ ...e, row: e.row + chunk.lineOffset });
    done += chunk.rows;
    bar.update(done);
  }
  bar.finish();

  if (v.json) writeJson(io, { created, generatedTokens: generated, errors });
  else {
    io.stdout.write(`created ${created} of ${total} devices${errors.length > 0 ? `, ${errors.length} rows rejected:` : ''}\n`);
    for (const e of errors) io.stdout.write(`  ${file}:${e.row}${e.name !== undefined ? ` "${e.name}"` : ''}: ${e.message}\n`);
    if (generated.length > 0) io.stdout.write(`access tokens generated (shown once, only their hashes are kept):\n`);
    for (const d of generated) io.stdout.write(`  ${d.name}\t${d.accessToken}\n`);
  }
  return errors.length > 0 ? 2 : 0;
}
