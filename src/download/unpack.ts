/**
 * Unpacking what was downloaded: a .gz by zlib, as the pipeline reads .gz
 * itself (src/scan/gzip.ts), and the one member of a .zip that is wanted
 * (Kaggle hands the CSV out zipped). No tool outside Node is needed.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflateRaw } from 'node:zlib';
import { TrueFilmError } from '../errors.js';

/** zlib's default 16 KiB chunks inflate at half the speed (PITFALLS.md) */
const CHUNK = 1 << 20;

/** Why a file failed to unpack: the archive's fault, or the disk's. */
export class UnpackError extends Error {
  constructor(
    message: string,
    readonly disk: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EACCES', 'EPERM']);

function unpackError(err: unknown): UnpackError {
  if (err instanceof UnpackError) return err;
  const e = err as NodeJS.ErrnoException;
  return new UnpackError(e.message, e.code !== undefined && DISK_CODES.has(e.code), { cause: err });
}

/** Counts the bytes that go through, for progress. */
function counter(onBytes: (n: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      seen += chunk.length;
      onBytes(seen);
      done(null, chunk);
    },
  });
}

/** The size modulo 2^32 that a gzip file records of its content (its last 4 bytes); null when too short. */
export async function gzipRecordedSize(file: string): Promise<number | null> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 18) return null;
    const tail = Buffer.alloc(4);
    await handle.read(tail, 0, 4, size - 4);
    return tail.readUInt32LE(0);
  } finally {
    await handle.close();
  }
}

/**
 * Inflates `gz` into `out`; `onRead` gets the compressed bytes read so far.
 * Throws UnpackError, or INTERRUPTED when `signal` aborts.
 */
export async function gunzipFile(gz: string, out: string, options: { onRead?: (bytes: number) => void; signal?: AbortSignal } = {}): Promise<void> {
  try {
    await pipeline(
      createReadStream(gz, { highWaterMark: CHUNK }),
      counter(options.onRead ?? (() => {})),
      createGunzip({ chunkSize: CHUNK }),
      createWriteStream(out),
      { signal: options.signal },
    );
  } catch (err) {
    if (options.signal?.aborted) throw new TrueFilmError('INTERRUPTED', 'stopped while decompressing', { input: gz, cause: err });
    throw unpackError(err);
  }
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** Checks a member's CRC-32 and size as its bytes pass. */
function zipCheck(expectedCrc: number, expectedSize: number, name: string): Transform {
  let crc = -1;
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      for (let i = 0; i < chunk.length; i++) crc = CRC_TABLE[(crc ^ chunk[i]!) & 0xff]! ^ (crc >>> 8);
      size += chunk.length;
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      const ok = (crc ^ -1) >>> 0 === expectedCrc && size === expectedSize;
      done(ok ? null : new UnpackError(`${name} in the archive is damaged (its CRC-32 or size does not match)`, false));
    },
  });
}

interface ZipMember {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeader: number;
}

/** The members listed in a zip archive's central directory. */
async function zipMembers(handle: FileHandle, fileSize: number): Promise<ZipMember[]> {
  // the end-of-central-directory record: 22 bytes, after a comment of up to 64 KiB
  const tailSize = Math.min(fileSize, 22 + 0xffff);
  const tail = Buffer.alloc(tailSize);
  await handle.read(tail, 0, tailSize, fileSize - tailSize);
  let eocd = -1;
  for (let i = tailSize - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new UnpackError('it is not a zip archive (no end of central directory)', false);
  const count = tail.readUInt16LE(eocd + 10);
  const dirSize = tail.readUInt32LE(eocd + 12);
  const dirOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    throw new UnpackError('it is a ZIP64 archive, which this reader does not open: unzip it yourself', false);
  }
  const dir = Buffer.alloc(dirSize);
  await handle.read(dir, 0, dirSize, dirOffset);
  const members: ZipMember[] = [];
  for (let at = 0, i = 0; i < count; i++) {
    if (at + 46 > dir.length || dir.readUInt32LE(at) !== 0x02014b50) throw new UnpackError('its central directory is damaged', false);
    const nameLength = dir.readUInt16LE(at + 28);
    members.push({
      flags: dir.readUInt16LE(at + 8),
      method: dir.readUInt16LE(at + 10),
      crc: dir.readUInt32LE(at + 16),
      compressedSize: dir.readUInt32LE(at + 20),
      size: dir.readUInt32LE(at + 24),
      localHeader: dir.readUInt32LE(at + 42),
      name: dir.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + dir.readUInt16LE(at + 30) + dir.readUInt16LE(at + 32);
  }
  return members;
}

/**
 * Extracts the member called `wanted` (at the top or in a folder) of the zip
 * archive `zip` into `out`, checking its CRC-32. Stored and deflated members
 * are read (what zip tools write); an encrypted one is refused. Throws
 * UnpackError, or TrueFilmError('DOWNLOAD_BAD_FILE') when it is not there.
 */
export async function unzipMember(zip: string, wanted: string, out: string): Promise<void> {
  const handle = await open(zip, 'r');
  let member: ZipMember;
  let dataStart: number;
  try {
    const members = await zipMembers(handle, (await handle.stat()).size);
    const found = members.find((m) => m.name === wanted || m.name.endsWith(`/${wanted}`));
    if (!found) throw new TrueFilmError('DOWNLOAD_BAD_FILE', `the archive holds no ${wanted}`, { input: zip });
    member = found;
    if (member.flags & 1) throw new UnpackError(`${member.name} is encrypted in the archive`, false);
    if (member.method !== 0 && member.method !== 8) throw new UnpackError(`${member.name} is compressed with method ${member.method}, which this reader does not open: unzip it yourself`, false);
    const local = Buffer.alloc(30);
    await handle.read(local, 0, 30, member.localHeader);
    if (local.readUInt32LE(0) !== 0x04034b50) throw new UnpackError(`the entry of ${member.name} is damaged`, false);
    dataStart = member.localHeader + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } catch (err) {
    if (err instanceof TrueFilmError) throw err;
    throw unpackError(err);
  } finally {
    await handle.close();
  }
  if (member.compressedSize === 0) {
    if (member.size !== 0) throw new UnpackError(`${member.name} in the archive is damaged (no data)`, false);
    await writeFile(out, '');
    return;
  }
  const source = createReadStream(zip, { start: dataStart, end: dataStart + member.compressedSize - 1, highWaterMark: CHUNK });
  const check = zipCheck(member.crc, member.size, member.name);
  try {
    if (member.method === 8) await pipeline(source, createInflateRaw({ chunkSize: CHUNK }), check, createWriteStream(out));
    else await pipeline(source, check, createWriteStream(out));
  } catch (err) {
    throw unpackError(err);
  }
}
