/**
 * One error type for every expected failure. Code branches on `code`, never on
 * the message; `main.ts` maps the code to an exit status and prints the message
 * once, without a stack trace.
 */

export type ErrorCode =
  // bad usage (exit 2)
  | 'USAGE'
  // inputs
  | 'INPUT_NOT_FOUND'
  | 'INPUT_UNREADABLE'
  | 'CSV_MISSING_COLUMNS'
  | 'CSV_EMPTY'
  | 'CSV_NO_HEADER'
  | 'CSV_ENCODING'
  | 'CSV_PARSE'
  | 'NO_FILMS'
  | 'DUMP_TRUNCATED'
  | 'DUMP_GZIP'
  | 'DUMP_FORMAT'
  | 'DUMP_BZIP2'
  | 'BZIP2_MISSING'
  // database
  | 'DB_UNREACHABLE'
  | 'DB_AUTH'
  | 'DB_PRIVILEGE'
  | 'DB_LOCKED'
  // every pooled connection stayed busy for the bounded wait (the server answers)
  | 'DB_BUSY'
  | 'DB_QUERY'
  | 'DB_EMBEDDED'
  // the data directory (--data-dir) cannot be made or written
  | 'DATA_DIR'
  // network
  | 'SPARQL_BAD_RESPONSE'
  | 'SPARQL_UNAVAILABLE'
  | 'HTTP_STATUS'
  | 'HTTP_BAD_RESPONSE'
  | 'HTTP_TOO_LARGE'
  | 'HTTP_UNREACHABLE'
  | 'HTTP_TIMEOUT'
  // downloads (truefilm download)
  | 'DOWNLOAD_CHECKSUM'
  | 'DOWNLOAD_NO_SPACE'
  | 'DOWNLOAD_FAILED'
  | 'DOWNLOAD_BAD_FILE'
  | 'DOWNLOAD_SOURCE'
  | 'DOWNLOAD_CONFLICT'
  | 'DOWNLOAD_TOOL'
  // dashboard
  | 'DASHBOARD_BAD_REQUEST'
  | 'DASHBOARD_LISTEN'
  // the run was stopped by a signal
  | 'INTERRUPTED'
  | 'INTERNAL';

export interface ErrorContext {
  /** the file, URL or server the failure concerns (never with a password) */
  input?: string;
  /** 1-based line of a text input */
  line?: number;
  /** byte offset in a binary input */
  offset?: number;
  /** what the user can do about it */
  hint?: string;
  cause?: unknown;
}

export class TrueFilmError extends Error {
  readonly code: ErrorCode;
  readonly input?: string;
  readonly line?: number;
  readonly offset?: number;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'TrueFilmError';
    this.code = code;
    this.input = context.input;
    this.line = context.line;
    this.offset = context.offset;
    this.hint = context.hint;
  }
}

export function isTrueFilmError(err: unknown, code?: ErrorCode): err is TrueFilmError {
  return err instanceof TrueFilmError && (code === undefined || err.code === code);
}

/** Exit statuses of SPEC section 2, plus the shell's 128+signal for interrupts. */
export function exitStatusFor(err: unknown): number {
  if (!(err instanceof TrueFilmError)) return 1;
  if (err.code === 'USAGE') return 2;
  return 1;
}

/** The one line (or two, with a hint) that a user sees for an error. */
export function describeError(err: unknown): string {
  if (err instanceof TrueFilmError) {
    const where: string[] = [];
    if (err.input) where.push(err.input);
    if (err.line !== undefined) where.push(`line ${err.line}`);
    if (err.offset !== undefined) where.push(`byte ${err.offset}`);
    const prefix = where.length > 0 ? `${where.join(', ')}: ` : '';
    const hint = err.hint ? `\n  ${err.hint}` : '';
    return `${prefix}${err.message}${hint}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
