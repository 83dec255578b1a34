/**
 * A compressed input's decompressed bytes, as chunks for the workers.
 *
 * Compression comes from the file's magic bytes (`1f 8b` gzip, `BZh` bzip2,
 * else none); the format from the first decompressed bytes (formats.ts).
 * `.gz` is inflated by zlib on the main thread (gzip.ts); `.bz2` by a system
 * decompressor, lbzip2 when present (parallel), else bzip2, as a child process
 * that the file is piped through. Either way the output is cut by the
 * format's cutter into chunks that any worker can scan.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { TrueFilmError, isTrueFilmError, type ErrorCode } from '../errors.js';
import { BZIP2_COMMANDS, onPath } from '../tools.js';
import { FORMATS, sniffFormat } from './formats.js';
import { drain, gunzipBuffers } from './gzip.js';
import type { Compression, Cutter, DumpFormat, FormatChunk, InflatedChunk } from './types.js';

export function compressionOf(magic: Uint8Array): Compression {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic[0] === 0x42 && magic[1] === 0x5a && magic[2] === 0x68) return 'bzip2';
  return 'none';
}

export interface DecompressOptions {
  /** decompressed bytes per chunk, about */
  chunkSize: number;
  maxDocBytes?: number;
  /** compressed bytes read so far (for progress) */
  onRead?: (compressedBytes: number) => void;
}

/** Decompresses `file` and yields its chunks, cut where its format allows. */
export async function* decompressChunks(file: string, compression: 'gzip' | 'bzip2', options: DecompressOptions): AsyncGenerator<FormatChunk> {
  const source = compression === 'gzip' ? gunzipBuffers(file, options.onRead) : bunzipBuffers(file, options.onRead);
  // the first bytes wait until they tell the format, which chooses the cutter
  let head: Buffer[] = [];
  // (set by sniff(): a plain `let x = null` would stay null to the compiler)
  let chosen = null as { format: DumpFormat; cutter: Cutter } | null;
  const tagged = (chunks: InflatedChunk[], format: DumpFormat): FormatChunk[] => chunks.map((chunk) => ({ ...chunk, format }));
  /** once the first bytes tell the format: its cutter, which takes them */
  const sniff = (final: boolean): FormatChunk[] => {
    const format = sniffFormat(head.length === 1 ? head[0]! : Buffer.concat(head), final, file);
    if (format === null) return [];
    const cutter = FORMATS[format].cutter(options);
    chosen = { format, cutter };
    const out = head.flatMap((piece) => tagged(cutter.push(piece), format));
    head = [];
    return out;
  };
  try {
    for await (const data of source) {
      if (chosen !== null) {
        yield* tagged(chosen.cutter.push(data), chosen.format);
      } else {
        head.push(data);
        yield* sniff(false);
      }
    }
    if (chosen === null) yield* sniff(true);
    yield* tagged(chosen!.cutter.end(), chosen!.format);
  } catch (err) {
    // the cutters know offsets, not files
    if (isTrueFilmError(err) && err.input === undefined) throw inInput(err, file, true, err);
    throw err;
  }
}

/**
 * An error that knows an offset but not its file (a cutter's, a worker's),
 * as the user reads it: naming the file, and saying that a truncation's
 * offset counts uncompressed bytes when the file is compressed.
 */
export function inInput(
  error: { code: ErrorCode; message: string; offset?: number; hint?: string },
  file: string,
  compressed: boolean,
  cause?: unknown,
): TrueFilmError {
  const where = compressed && error.offset !== undefined && error.code === 'DUMP_TRUNCATED' ? ' (of the uncompressed data)' : '';
  return new TrueFilmError(error.code, error.message + where, { input: file, offset: error.offset, hint: error.hint, cause });
}

/**
 * Starts lbzip2, or else bzip2, decompressing stdin to stdout. bzip2 writes
 * through stdio's 8 KiB buffer: each write is a wake-up of the pipe's reader
 * (20% of a core, and bzip2 stalls meanwhile), so it runs under
 * `stdbuf -o4M` when coreutils' stdbuf is there (then as fast as to /dev/null).
 */
async function startBunzip(file: string): Promise<{ child: ChildProcessWithoutNullStreams; name: string }> {
  const lbzip2 = onPath(BZIP2_COMMANDS[0]!);
  const bzip2 = lbzip2 === null ? onPath(BZIP2_COMMANDS[1]!) : null;
  if (lbzip2 === null && bzip2 === null) {
    throw new TrueFilmError('BZIP2_MISSING', `no bzip2 decompressor is installed (looked for ${BZIP2_COMMANDS.join(', ')} on the PATH) to read this .bz2 file`, {
      input: file,
      hint: 'Install lbzip2 (parallel, faster) or bzip2 (apt-get install lbzip2), or decompress the file first (bzip2 -dk FILE) and pass the .json.',
    });
  }
  const stdbuf = bzip2 !== null ? onPath('stdbuf') : null;
  const [command, args] = lbzip2 !== null ? [lbzip2, ['-d', '-c']] : stdbuf !== null ? [stdbuf, ['-o4M', bzip2!, '-d', '-c']] : [bzip2!, ['-d', '-c']];
  const name = lbzip2 !== null ? BZIP2_COMMANDS[0]! : BZIP2_COMMANDS[1]!;
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const started = await new Promise<true | NodeJS.ErrnoException>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', (err) => resolve(err));
  });
  if (started !== true) throw new TrueFilmError('DUMP_BZIP2', `cannot start ${name} to decompress the file: ${started.message}`, { input: file, cause: started });
  return { child, name };
}

/**
 * Decompresses `file` through lbzip2 or bzip2 (`-dc`, the file piped to its
 * stdin so that the compressed bytes read are known) and yields its output.
 * The tool's failure (a corrupt or cut-short file) is DUMP_BZIP2 with its
 * message and the compressed bytes fed to it by then.
 */
export async function* bunzipBuffers(file: string, onRead?: (compressedBytes: number) => void): AsyncGenerator<Buffer> {
  const { child, name: command } = await startBunzip(file);
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  let fed = 0;
  let readError: NodeJS.ErrnoException | null = null;
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  child.on('error', () => {}); // after a spawn, only a failed kill(): the exit status tells
  child.stdin.on('error', () => {}); // EPIPE when the tool stops early: its exit status tells why
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  source.on('data', (chunk: Buffer | string) => {
    fed += chunk.length;
    onRead?.(fed);
  });
  source.on('error', (err) => {
    readError = err;
    child.stdin.destroy();
    child.kill();
  });
  source.pipe(child.stdin);
  try {
    // bzip2 writes a few KiB at a time: the batches are joined (a whole buffer, which can move to a worker)
    for await (const batch of drain(child.stdout)) yield batch.length === 1 ? batch[0]! : Buffer.concat(batch);
    const { code, signal } = await exited;
    if (readError !== null) {
      const err: NodeJS.ErrnoException = readError;
      throw new TrueFilmError('INPUT_UNREADABLE', `cannot read the file: ${err.message}`, { input: file, cause: err });
    }
    if (code !== 0) {
      const said = stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(0, 2).join(' ').trim();
      const cut = /ends unexpectedly|unexpected end|truncated/i.test(said);
      throw new TrueFilmError(
        'DUMP_BZIP2',
        `${cut ? 'the bzip2 file is cut short' : 'the bzip2 data is corrupt'}: ${command} ${signal ? `was stopped by ${signal}` : `exited with status ${code}`}` +
          (said ? ` (${said})` : ''),
        {
          input: file,
          offset: fed,
          hint: 'Download the file again (./data_download.sh --source cirrus), or check it with `bzip2 -t`.',
        },
      );
    }
  } finally {
    source.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}
