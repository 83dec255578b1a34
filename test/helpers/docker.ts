/**
 * Reading the container files where no Docker engine runs: a Dockerfile
 * parser (instructions, stages, what a stage inherits) and compose-style
 * variable interpolation (${VAR}, ${VAR:-default}, ${VAR:?error}, $$).
 */

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  /** the image or stage it starts from */
  from: string;
  instructions: Instruction[];
}

/** Instructions in order, continuation lines joined, comments and blank lines dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i;
    let joined = first.trimEnd();
    while (joined.endsWith('\\') && i + 1 < lines.length) {
      joined = joined.slice(0, -1);
      i++;
      if (/^\s*#/.test(lines[i]!)) continue; // comments inside a continued instruction
      joined += ' ' + lines[i]!.trim();
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/s.exec(joined);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot read ${JSON.stringify(joined)}`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim(), line: start + 1 });
  }
  return out;
}

export function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ from: m[1]!, name: m[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before FROM`);
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return stages;
}

/** A stage and the stages it is built on, nearest first. */
export function lineage(stages: Stage[], name: string): Stage[] {
  const out: Stage[] = [];
  let stage = stages.find((s) => s.name === name);
  while (stage) {
    out.push(stage);
    const parent = stage.from;
    stage = stages.find((s) => s.name === parent);
  }
  return out;
}

/** The last value of an instruction in effect for a stage (inherited from its base stages). */
export function effective(stages: Stage[], name: string, keyword: string): Instruction | undefined {
  for (const stage of lineage(stages, name)) {
    const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found;
  }
  return undefined;
}

/** The JSON (exec form) arguments of CMD, ENTRYPOINT, VOLUME or HEALTHCHECK ... CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

export class InterpolationError extends Error {}

/** Compose's interpolation of one string. */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    if (bare !== undefined) return env[bare] ?? '';
    const v = env[name!];
    const unset = op?.startsWith(':') ? v === undefined || v === '' : v === undefined;
    if (op === undefined) return v ?? '';
    if (op.endsWith('-')) return unset ? arg! : v!;
    if (unset) throw new InterpolationError(`required variable ${name} is missing a value: ${arg}`);
    return v!;
  });
}

/** Interpolates every string of a parsed compose file. */
export function interpolateAll<T>(value: T, env: Record<string, string | undefined>): T {
  if (typeof value === 'string') return interpolate(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)])) as T;
  }
  return value;
}

/** KEY=value lines of a dotenv file (comments and blank lines skipped). */
export function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}
