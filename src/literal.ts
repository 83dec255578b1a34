/**
 * A parser for the Python literals that the Kaggle CSV stores in its `genres`
 * and `production_companies` columns (the `repr()` of a list of dicts):
 *
 *   [{'id': 16, 'name': 'Animation'}, {'name': "D'Pelicula", 'id': 9}]
 *
 * It accepts what `ast.literal_eval` accepts for such data: single- and
 * double-quoted strings (with `u`/`r`/`b` prefixes and adjacent-literal
 * concatenation), the backslash escapes (`\n`, `\xNN`, `\uNNNN`, `\UNNNNNNNN`,
 * octal, escaped newlines), `None`/`True`/`False`, ints and floats, lists,
 * tuples and dicts, nested to a bounded depth. It never evaluates anything and
 * never throws: a value that does not parse is a result, not an exception.
 */

export type PyValue = null | boolean | number | string | PyValue[] | PyDict;
export interface PyDict {
  [key: string]: PyValue;
}

export type LiteralResult =
  | { ok: true; value: PyValue }
  | { ok: false; error: string; offset: number };

/** Deeper nesting than this is refused (the real data nests two levels). */
export const MAX_DEPTH = 64;

class LiteralSyntaxError {
  constructor(
    readonly message: string,
    readonly offset: number,
  ) {}
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

const NUMBER = /[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?/y;
const HEX = /^[0-9a-fA-F]+$/;

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseAll(): PyValue {
    const value = this.parseValue(0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describeHere()} after the value`);
    return value;
  }

  private fail(message: string, offset = this.pos): never {
    throw new LiteralSyntaxError(message, offset);
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'end of text';
    return JSON.stringify(this.text[this.pos]);
  }

  private skipSpace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) this.pos++;
      else if (c === 0x5c && text[this.pos + 1] === '\n') this.pos += 2; // explicit line joining
      else break;
    }
  }

  private parseValue(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.skipSpace();
    const c = this.text[this.pos];
    switch (c) {
      case '[':
        return this.parseSequence(']', depth);
      case '(':
        return this.parseSequence(')', depth);
      case '{':
        return this.parseDict(depth);
      case "'":
      case '"':
        return this.parseStrings();
      case undefined:
        return this.fail('unexpected end of text');
    }
    if (/[uUrRbB]/.test(c) && this.isStringPrefixHere()) return this.parseStrings();
    if (/[A-Za-z_]/.test(c)) return this.parseName();
    return this.parseNumber();
  }

  private parseSequence(close: ']' | ')', depth: number): PyValue {
    const items: PyValue[] = [];
    let comma = false;
    this.pos++; // the opening bracket
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        // (x) is x in parentheses; (x,) and () are tuples
        return close === ')' && items.length === 1 && !comma ? items[0]! : items;
      }
      items.push(this.parseValue(depth + 1));
      this.skipSpace();
      const c = this.text[this.pos];
      comma = c === ',';
      if (comma) this.pos++;
      else if (c !== close) this.fail(`expected "," or "${close}", found ${this.describeHere()}`);
    }
  }

  private parseDict(depth: number): PyDict {
    const dict: PyDict = Object.create(null) as PyDict;
    this.pos++; // {
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return dict;
      }
      const keyOffset = this.pos;
      const key = this.parseValue(depth + 1);
      if (key !== null && typeof key === 'object') this.fail('a dict key must be a string, number or constant', keyOffset);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected ":" after a dict key, found ${this.describeHere()}`);
      this.pos++;
      dict[String(key === null ? 'None' : key)] = this.parseValue(depth + 1);
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== '}') this.fail(`expected "," or "}", found ${this.describeHere()}`);
    }
  }

  private parseName(): PyValue {
    const start = this.pos;
    while (this.pos < this.text.length && /[A-Za-z0-9_]/.test(this.text[this.pos]!)) this.pos++;
    const name = this.text.slice(start, this.pos);
    if (name === 'None') return null;
    if (name === 'True') return true;
    if (name === 'False') return false;
    return this.fail(`unknown name ${JSON.stringify(name)}`, start);
  }

  private parseNumber(): number {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(this.text);
    if (!m || m[0].length === 0 || !/\d/.test(m[0])) return this.fail(`unexpected ${this.describeHere()}`);
    // Python refuses an integer with a leading zero (016), but not a float (016.5) or zero (00)
    if (/^[+-]?0[_0]*[1-9]/.test(m[0]) && !/[.eE]/.test(m[0])) return this.fail(`an integer cannot start with 0: ${m[0]}`);
    this.pos = start + m[0].length;
    return Number(m[0].replaceAll('_', ''));
  }

  private isStringPrefixHere(): boolean {
    const m = /^(?:[uU]|[rR]|[bB]|[bB][rR]|[rR][bB])['"]/.exec(this.text.slice(this.pos, this.pos + 3));
    return m !== null;
  }

  /** One or more adjacent string literals ('a' "b" is 'ab' in Python). */
  private parseStrings(): string {
    let out = this.parseString();
    for (;;) {
      const save = this.pos;
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === "'" || c === '"' || (c !== undefined && /[uUrRbB]/.test(c) && this.isStringPrefixHere())) {
        out += this.parseString();
      } else {
        this.pos = save;
        return out;
      }
    }
  }

  private parseString(): string {
    const text = this.text;
    let raw = false;
    while (text[this.pos] !== "'" && text[this.pos] !== '"') {
      if (text[this.pos] === 'r' || text[this.pos] === 'R') raw = true;
      this.pos++;
    }
    const start = this.pos;
    const quote = text[this.pos]!;
    const triple = text.startsWith(quote.repeat(3), this.pos);
    const delimiter = triple ? quote.repeat(3) : quote;
    this.pos += delimiter.length;
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= text.length) this.fail('string not closed', start);
      const c = text[this.pos]!;
      if (c === quote && (!triple || text.startsWith(delimiter, this.pos))) {
        out += text.slice(runStart, this.pos);
        this.pos += delimiter.length;
        return out;
      }
      if ((c === '\n' || c === '\r') && !triple) this.fail('line break inside a string', this.pos);
      if (c !== '\\') {
        this.pos++;
        continue;
      }
      out += text.slice(runStart, this.pos);
      if (raw) {
        // a raw string keeps the backslash and the character after it
        out += text.slice(this.pos, this.pos + 2);
        this.pos += 2;
      } else {
        out += this.parseEscape();
      }
      runStart = this.pos;
    }
  }

  /** At a backslash: returns what the escape stands for and moves past it. */
  private parseEscape(): string {
    const text = this.text;
    const at = this.pos;
    const c = text[at + 1];
    if (c === undefined) this.fail('backslash at end of text', at);
    const simple = SIMPLE_ESCAPES[c];
    if (simple !== undefined) {
      this.pos = at + 2;
      return simple;
    }
    if (c === '\n') {
      this.pos = at + 2;
      return '';
    }
    if (c === '\r') {
      this.pos = at + (text[at + 2] === '\n' ? 3 : 2);
      return '';
    }
    if (c === 'x' || c === 'u' || c === 'U') {
      const width = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const digits = text.slice(at + 2, at + 2 + width);
      if (digits.length !== width || !HEX.test(digits)) this.fail(`bad \\${c} escape: needs ${width} hex digits`, at);
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) this.fail(`\\${c}${digits} is beyond the last Unicode code point`, at);
      this.pos = at + 2 + width;
      return String.fromCodePoint(code);
    }
    if (c >= '0' && c <= '7') {
      let end = at + 1;
      while (end < at + 4 && text[end]! >= '0' && text[end]! <= '7') end++;
      this.pos = end;
      return String.fromCodePoint(parseInt(text.slice(at + 1, end), 8));
    }
    if (c === 'N') this.fail('named escapes (\\N{...}) are not supported', at);
    // Python keeps unknown escapes as they are: '\q' is backslash + q
    this.pos = at + 2;
    return '\\' + c;
  }
}

export function parsePythonLiteral(text: string): LiteralResult {
  try {
    return { ok: true, value: new Parser(text).parseAll() };
  } catch (err) {
    if (err instanceof LiteralSyntaxError) return { ok: false, error: err.message, offset: err.offset };
    // A RangeError from a pathological input (stack) is still just a bad value.
    return { ok: false, error: err instanceof Error ? err.message : String(err), offset: 0 };
  }
}
