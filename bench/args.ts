/** What every benchmark script needs: its command-line flags, and the median of its rounds. */

/** The value after `--name` on the command line, or `fallback`. */
export function flag(name: string, fallback: string): string;
export function flag(name: string, fallback: string | null): string | null;
export function flag(name: string, fallback: string | null): string | null {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

/** The median (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
