/** Numbers, URLs and shell words as people read them. */

/** A count as people read it: 4,994. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** 1.2 GB, 350 MB; `digits`: as many decimals at every size (one, for a free-space check: a tight margin then reads as one) */
export function formatBytes(bytes: number, digits?: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(digits ?? (value >= 100 ? 0 : 1))} ${units[unit]}`;
}

/** `4 MiB`, `64 KiB`, `1.5 MiB`: for limits, which are powers of two and read best so. */
export function formatMiB(bytes: number): string {
  if (bytes >= 1 << 20) return `${+(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${+(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** $1.2M, $350K, $7.5B */
export function formatMoney(usd: number): string {
  const abs = Math.abs(usd);
  const scale: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of scale) {
    if (abs >= size) {
      const v = usd / size;
      return `$${v.toFixed(Math.abs(v) >= 100 ? 0 : 1).replace(/\.0$/, '')}${suffix}`;
    }
  }
  return `$${usd.toFixed(0)}`;
}

/** 4,133× ; 12.5× ; 1.03× */
export function formatRatio(ratio: number): string {
  const digits = ratio >= 100 ? 0 : ratio >= 10 ? 1 : 2;
  return `${ratio.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}×`;
}

/**
 * A connection string with its password replaced by `****`. Handles URLs
 * (postgres://user:pass@host/db, ?password=...) and key=value strings.
 */
export function maskUrl(url: string): string {
  let masked = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)([^@/?#]*)@/i, (_m, head: string, pass: string) =>
    pass.length > 0 ? `${head}****@` : `${head}@`,
  );
  masked = masked.replace(/([?&]password=)[^&]*/gi, '$1****');
  masked = masked.replace(/(\bpassword\s*=\s*)('[^']*'|\S+)/gi, '$1****');
  return masked;
}

/**
 * A word the shell reads as itself, for a command a user copies: as it is
 * when it holds only plain characters (a path, a PATH-like list, a flag's
 * value), else single-quoted.
 */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Left-aligned text table for the terminal. `align` has 'r' for right-aligned columns. */
export function textTable(header: string[], rows: string[][], align = ''): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
