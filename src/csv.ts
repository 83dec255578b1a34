/**
 * A fast reader for the strict part of RFC 4180 that movies_metadata.csv is
 * written in, and nothing else: records end with LF; a field is either
 * unquoted (no `"`, `,`, CR or LF in it) or quoted (`""` for a quote, LFs
 * allowed, no CR); nothing follows a closing quote but `,`, LF or the end.
 *
 * It vouches for a record only when csv-parse, with the metadata stage's
 * options, would read the very same fields from it and stand in the very same
 * state after it (nothing pending, LF as the record delimiter); and it gives
 * each record the start line the stage works out from csv-parse's count. At
 * the first record it cannot vouch for (an unbalanced quote, a CR, a record
 * larger than `maxRecordBytes`, a UTF-16 BOM...), it stops at that record's
 * first byte and says so: csv-parse reads the rest of the file from there,
 * and decides what is malformed. Blank lines are skipped, as csv-parse's
 * `skip_empty_lines` does; a UTF-8 BOM is skipped.
 *
 * A core with no stream in it: `read()` takes the bytes it is given and
 * returns how far it got; the caller keeps what it did not take.
 */

import { isUtf8 } from 'node:buffer';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** One record, valid during the onRecord call only (its fields are read from the caller's buffer). */
export class StrictRecord {
  /** the number of fields */
  count = 0;
  /** the line the record starts on (1-based, the header is line 1 in a file without blank lines) */
  line = 0;
  /** where the record's bytes end in buf (at its LF, or the input's end) */
  end = 0;
  buf: Buffer = Buffer.alloc(0);
  /** per field: start, end (a quoted field's content, without its quotes), and 1 when it holds `""` */
  spans = new Int32Array(3 * 32);

  /** whether field i's bytes are UTF-8 */
  isUtf8(i: number): boolean {
    const at = 3 * i;
    return isUtf8(this.buf.subarray(this.spans[at]!, this.spans[at + 1]!));
  }

  /** field i as csv-parse would give it */
  field(i: number): string {
    const at = 3 * i;
    const text = this.buf.toString('utf8', this.spans[at]!, this.spans[at + 1]!);
    return this.spans[at + 2] === 1 ? text.replaceAll('""', '"') : text;
  }

  fields(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.field(i));
    return out;
  }
}

export interface StrictRead {
  /** the first byte not read: the start of a record (or of blank lines) */
  next: number;
  /** true: the record at `next` is not one this reader vouches for (csv-parse must read from there) */
  irregular: boolean;
}

export class StrictCsvReader {
  /** LFs read so far (records and blank lines): the next record starts on line newlines + 1 */
  newlines = 0;
  /** whether a record delimiter was read: csv-parse then knows its delimiter is LF */
  delimited = false;
  private started = false;
  private readonly record = new StrictRecord();

  constructor(
    private readonly onRecord: (record: StrictRecord) => void,
    private readonly maxRecordBytes = 8 << 20,
  ) {}

  /**
   * Reads the whole records of buf[from, to); `final`: nothing follows `to`
   * (the last record may then lack its LF). Stops before a record that does
   * not end within `to` (unless final), and at an irregular one.
   */
  read(buf: Buffer, from: number, to: number, final: boolean): StrictRead {
    let pos = from;
    if (!this.started) {
      if (to - pos < 3 && !final) return { next: pos, irregular: false };
      if (buf[pos] === 0xef && buf[pos + 1] === 0xbb && buf[pos + 2] === 0xbf) pos += 3;
      else if ((buf[pos] === 0xff && buf[pos + 1] === 0xfe) || (buf[pos] === 0xfe && buf[pos + 1] === 0xff)) return { next: pos, irregular: true };
      this.started = true;
    }
    const record = this.record;
    record.buf = buf;
    // the first CR ahead: a record that holds it is left to csv-parse
    let cr = buf.indexOf(CR, pos);
    if (cr < 0 || cr > to) cr = to;
    while (pos < to) {
      if (buf[pos] === LF) {
        // a blank line: no record (skip_empty_lines)
        this.newlines++;
        this.delimited = true;
        pos++;
        continue;
      }
      const start = pos;
      let count = 0;
      for (;;) {
        if (3 * count + 3 > record.spans.length) {
          const grown = new Int32Array(record.spans.length * 2);
          grown.set(record.spans);
          record.spans = grown;
        }
        const at = 3 * count++;
        if (pos < to && buf[pos] === QUOTE) {
          const open = pos + 1;
          let escaped = 0;
          let q = open;
          for (;;) {
            q = buf.indexOf(QUOTE, q);
            if (q < 0 || q >= to) return final ? { next: start, irregular: true } : this.more(start, to);
            if (q + 1 >= to && !final) return this.more(start, to);
            const after = q + 1 < to ? buf[q + 1] : -1;
            if (after === QUOTE) {
              escaped = 1;
              q += 2;
              continue;
            }
            // csv-parse: "Invalid Closing Quote"
            if (after !== COMMA && after !== LF && after !== -1) return { next: start, irregular: true };
            break;
          }
          record.spans[at] = open;
          record.spans[at + 1] = q;
          record.spans[at + 2] = escaped;
          pos = q + 1;
        } else {
          let p = pos;
          for (; p < to; p++) {
            const c = buf[p];
            if (c === COMMA || c === LF) break;
            // csv-parse: "Invalid Opening Quote"
            if (c === QUOTE) return { next: start, irregular: true };
          }
          record.spans[at] = pos;
          record.spans[at + 1] = p;
          record.spans[at + 2] = 0;
          pos = p;
        }
        if (pos - start > this.maxRecordBytes) return { next: start, irregular: true };
        if (pos < to && buf[pos] === COMMA) {
          pos++;
          continue;
        }
        if (pos >= to && !final) return this.more(start, to);
        break;
      }
      // pos: the record's LF, or the end of the input
      if (cr < pos) return { next: start, irregular: true };
      record.count = count;
      record.line = this.newlines + 1;
      record.end = pos;
      // the LFs inside quoted fields (an unquoted one holds none)
      for (let n = buf.indexOf(LF, start); n >= 0 && n < pos; n = buf.indexOf(LF, n + 1)) this.newlines++;
      if (pos < to) {
        this.newlines++;
        this.delimited = true;
        pos++;
      }
      this.onRecord(record);
    }
    return { next: pos, irregular: false };
  }

  /** the record at `start` needs bytes past `to`; a record larger than the limit is csv-parse's */
  private more(start: number, to: number): StrictRead {
    return { next: start, irregular: to - start > this.maxRecordBytes };
  }
}
