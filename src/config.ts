/**
 * Options, normalised once: flag > environment variable > default. Every
 * problem is collected and reported in one usage error (exit status 2).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DOWNLOAD_HELP, parseDownloadArgs, type DownloadConfig } from './download/options.js';
import { TrueFilmError } from './errors.js';
import { formatCount } from './format.js';

export const VERSION = '0.1.0';

export const DEFAULTS = {
  dataDir: 'data',
  metadataFile: 'movies_metadata.csv',
  abstractsFile: 'enwiki-latest-abstract.xml',
  top: 1000,
  minBudget: 1000,
  threads: os.availableParallelism(),
  sparqlEndpoint: 'https://query.wikidata.org/sparql',
  wikipediaEndpoint: 'https://en.wikipedia.org/w/api.php',
  dashboardPort: 8502,
  dashboardHost: '127.0.0.1',
} as const;

export type Command = 'run' | 'demo' | 'db' | 'dashboard' | 'download';
export type { DownloadConfig };

/** The bundled sample (data/sample of the installed package, wherever the command runs from): what `truefilm demo` reads. */
export const SAMPLE = {
  dir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'sample'),
  metadata: 'movies_metadata.csv',
  abstracts: 'enwiki-abstract-sample.xml',
} as const;

export interface RunConfig {
  command: 'run';
  metadata: string;
  /** files to scan, in order; empty when the default file is absent */
  abstracts: string[];
  /** true when the abstract files were named by the user (a missing one is then an error) */
  abstractsNamed: boolean;
  top: number;
  minBudget: number;
  threads: number;
  databaseUrl: string | null;
  dataDir: string;
  sparqlEndpoint: string;
  /** English Wikipedia's MediaWiki Action API (api.php): title lookups and intro extracts */
  wikipediaEndpoint: string;
  /** the user's e-mail address or URL, put in the User-Agent of every request (Wikimedia's policy); null: none given */
  contact: string | null;
  offline: boolean;
  requireWikidata: boolean;
  report: string | null;
  progress: boolean;
}

export interface DbConfig {
  command: 'db';
  dataDir: string;
  showPassword: boolean;
  port: number | null;
}

export interface DashboardConfig {
  command: 'dashboard';
  port: number;
  host: string;
  databaseUrl: string | null;
  dataDir: string;
}

/** `truefilm demo`: a run on the bundled sample, online when the services can be reached (src/demo.ts). */
export interface DemoConfig {
  command: 'demo';
  run: RunConfig;
}

export type Config = RunConfig | DemoConfig | DbConfig | DashboardConfig | DownloadConfig | { command: 'help'; text: string } | { command: 'version' };

const RUN_OPTIONS = {
  metadata: { type: 'string' },
  abstracts: { type: 'string', multiple: true },
  top: { type: 'string' },
  'min-budget': { type: 'string' },
  threads: { type: 'string' },
  'database-url': { type: 'string' },
  'data-dir': { type: 'string' },
  'sparql-endpoint': { type: 'string' },
  'wikipedia-endpoint': { type: 'string' },
  contact: { type: 'string' },
  offline: { type: 'boolean' },
  'require-wikidata': { type: 'boolean' },
  report: { type: 'string' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];

const DB_OPTIONS = {
  'data-dir': { type: 'string' },
  'show-password': { type: 'boolean' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];

const DASHBOARD_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'database-url': { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies ParseArgsConfig['options'];

export const HELP: Record<Command | 'main', string> = {
  main: `truefilm ${VERSION}: which films, genres and production companies return the most revenue per dollar of budget

Usage:
  truefilm [run] [options]      run the pipeline: CSV -> Wikipedia -> PostgreSQL (the default command)
  truefilm demo [options]       run it on the bundled sample (npm run demo)
  truefilm dashboard [options]  serve the web dashboard (http://127.0.0.1:8502/)
  truefilm db [options]         start the embedded PostgreSQL and print its URL until Ctrl-C
  truefilm download [options]   fetch the movies CSV (and a dump) into the data directory
                                (./data_download.sh runs it)

  truefilm <command> --help     the options of a command
  truefilm --version

Quick start: npm run demo   (the bundled sample into an embedded PostgreSQL; asks
                             Wikidata and Wikipedia when they can be reached)
`,
  run: `Usage: truefilm [run] [options]

Reads the movies CSV, keeps the top N films by revenue/budget, matches them to
English Wikipedia (Wikidata by IMDb id, then titles: in the dump when there is
one, then on the live wiki), takes their abstracts (from the dump, else the live
page's intro), and loads films, genres and production companies into PostgreSQL.
A run replaces the previous load atomically. No dump is needed: online, the
live wiki answers everything.

Inputs
  --metadata PATH        the movies CSV, UTF-8 (a file, a FIFO, or - for
                         stdin)                   [env TRUEFILM_METADATA]
                         default: <data-dir>/movies_metadata.csv
  --abstracts PATH       abstract dump (.xml, .xml.gz, .xml.bz2) or CirrusSearch
                         shards (.json, .json.gz, .json.bz2), told apart by their
                         content; repeat for several files (the split abstract1..27
                         dumps, the shards)  [env TRUEFILM_ABSTRACTS, ${path.delimiter}-separated]
                         default: <data-dir>/enwiki-latest-abstract.xml; when
                         that is absent the run goes on without abstracts
Selection
  --top N                how many films to keep (default ${DEFAULTS.top})
  --min-budget USD       budgets below this count as unknown (default ${DEFAULTS.minBudget});
                         the data gives some budgets in millions (1 for $1M);
                         a budget of 0 is always unknown, even with --min-budget 0
Matching
  --sparql-endpoint URL  Wikidata Query Service [env TRUEFILM_SPARQL_ENDPOINT]
                         default: ${DEFAULTS.sparqlEndpoint}
  --wikipedia-endpoint URL
                         English Wikipedia's MediaWiki Action API: title lookups
                         and intro extracts [env TRUEFILM_WIKIPEDIA_ENDPOINT]
                         default: ${DEFAULTS.wikipediaEndpoint}
  --contact EMAIL-or-URL your e-mail address or a URL, put in the User-Agent of
                         every request, as Wikimedia's policy asks [env TRUEFILM_CONTACT]
  --offline              no network: the dump and the caches only
  --require-wikidata     fail (exit 1) when Wikidata cannot be reached
Resources
  --threads N            worker threads for the dump scan (default: ${DEFAULTS.threads}, the CPUs)
  --database-url URL     PostgreSQL to load into  [env DATABASE_URL]
                         default: the embedded server in <data-dir>/pgdata
  --data-dir PATH        embedded database, caches [env TRUEFILM_DATA_DIR] (default ${DEFAULTS.dataDir}/)
Output
  --report PATH          write the run report (JSON) to PATH
  --no-progress          plain log lines instead of progress bars
  -h, --help             this text
  -v, --version          the version

Exit status: 0 success, 1 the run failed (the message names the input, line or
byte offset, and what to do), 2 bad usage, 130/143 stopped by Ctrl-C/SIGTERM.
A database that answers nothing for TRUEFILM_DB_TIMEOUT seconds (default 60)
fails the run (exit 1); nothing of it is committed.
Passwords are never printed: connection strings show the password as ****.
`,
  demo: `Usage: truefilm demo [run options]

The pipeline on the bundled sample (${SAMPLE.dir}): 76 rows of the real
movies CSV, 49 films selected, and 31 real abstract-dump pages. It asks Wikidata
and the live English Wikipedia (the endpoints of \`truefilm run\`, so
TRUEFILM_SPARQL_ENDPOINT and TRUEFILM_WIKIPEDIA_ENDPOINT point it elsewhere) when
both can be reached: a connection to each is tried first, at once, for up to 5 s.
When one cannot be reached, the demo runs offline and says so in one line.
It takes the options of \`truefilm run\` (see truefilm run --help); --metadata and
--abstracts default to the sample, and --offline skips the network.
`,
  db: `Usage: truefilm db [options]

Starts the embedded PostgreSQL on <data-dir>/pgdata (creating it on first use),
or joins it when it runs already, prints its connection URL and keeps it running
until Ctrl-C. Connect with psql "<url>" or any client; \`truefilm run\` and
\`truefilm dashboard\` use the same server. The last TrueFilm process using the
server stops it.

  --data-dir PATH        where the cluster lives [env TRUEFILM_DATA_DIR] (default ${DEFAULTS.dataDir}/)
  --port N               the port to try first   [env TRUEFILM_PG_PORT] (default 54329;
                         another free port is taken when it is busy)
  --show-password        print the URL with its password (it is masked otherwise;
                         the password is in <data-dir>/.pg-password)
  -h, --help             this text

Exit status: 130/143 stopped by Ctrl-C/SIGTERM; 1 the server could not start, or
stopped under this command (killed, or shut down from outside: the message gives
its last log lines); 2 bad usage.
`,
  dashboard: `Usage: truefilm dashboard [options]

Serves the dashboard: top films with filters, genre and production-company
performance, ratio against budget. Reads only.

  --port N               port to listen on   [env TRUEFILM_DASHBOARD_PORT] (default ${DEFAULTS.dashboardPort})
  --host HOST            address to listen on [env TRUEFILM_DASHBOARD_HOST] (default ${DEFAULTS.dashboardHost};
                         0.0.0.0 in the container)
  --database-url URL     PostgreSQL to read  [env DATABASE_URL]
                         default: the embedded server in <data-dir>/pgdata
  --data-dir PATH        [env TRUEFILM_DATA_DIR] (default ${DEFAULTS.dataDir}/)
  -h, --help             this text

Exit status: 130/143 stopped by Ctrl-C/SIGTERM; 1 it could not start (the message
says why); 2 bad usage. A request the database does not answer within
TRUEFILM_DB_TIMEOUT seconds (at most 20) gets a 503.
`,
  download: DOWNLOAD_HELP,
};

type Env = Record<string, string | undefined>;

class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    this.list.push(message);
  }
  throwIfAny(command: string): void {
    if (this.list.length === 0) return;
    throw new TrueFilmError('USAGE', this.list.join('\n'), { hint: `See: truefilm ${command === 'run' ? '' : command + ' '}--help` });
  }
}

function positiveInt(problems: Problems, flag: string, text: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return fallback;
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1 || Number(text) > max) {
    problems.add(`${flag} must be a whole number from 1 to ${formatCount(max)}, got ${JSON.stringify(text)}`);
    return fallback;
  }
  return Number(text);
}

function portNumber(problems: Problems, flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\s*\d+\s*$/.test(text) || Number(text) > 65535) {
    problems.add(`${flag} must be a port number from 0 to 65535 (0: any free port), got ${JSON.stringify(text)}`);
    return fallback;
  }
  return Number(text);
}

function httpUrl(problems: Problems, flag: string, text: string): string {
  if (!/^https?:\/\/[^/]/i.test(text)) problems.add(`${flag} must be an http:// or https:// URL, got ${JSON.stringify(text)}`);
  return text;
}

const EMAIL = /^[^\s@()<>]+@[^\s@()<>]+\.[^\s@()<>]+$/;
const CONTACT_URL = /^https?:\/\/[^\s()<>]+$/i;

/** An e-mail address or an http(s) URL, as the User-Agent's contact; nothing that could break the header. */
function contactOf(problems: Problems, flag: string, text: string | undefined): string | null {
  if (text === undefined || text.trim() === '') return null;
  const contact = text.trim();
  if (!EMAIL.test(contact) && !CONTACT_URL.test(contact)) {
    problems.add(`${flag} must be an e-mail address (you@example.org) or an http(s) URL where you can be reached, got ${JSON.stringify(text)}`);
    return null;
  }
  return contact;
}

function databaseUrl(problems: Problems, flag: string, text: string | undefined): string | null {
  if (text === undefined || text.trim() === '') return null;
  if (!/^postgres(?:ql)?:\/\//i.test(text)) {
    problems.add(`${flag} must be a postgres:// or postgresql:// URL, got a value starting ${JSON.stringify(text.slice(0, 12))}`);
    return null;
  }
  try {
    new URL(text);
  } catch {
    problems.add(`${flag} is not a valid URL (check that special characters in the password are percent-encoded)`);
    return null;
  }
  return text;
}

function parse<T extends ParseArgsConfig['options']>(args: string[], options: T, command: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new TrueFilmError('USAGE', message, { hint: `See: truefilm ${command === 'run' ? '' : command + ' '}--help`, cause: err });
  }
}

export function parseCommandLine(argv: string[], env: Env = process.env): Config {
  let command: Command = 'run';
  let args = argv;
  const first = argv[0];
  if (first === 'run' || first === 'demo' || first === 'db' || first === 'dashboard' || first === 'download') {
    command = first;
    args = argv.slice(1);
  } else if (first === 'help') {
    return { command: 'help', text: HELP.main };
  } else if (first !== undefined && !first.startsWith('-')) {
    throw new TrueFilmError('USAGE', `unknown command ${JSON.stringify(first)}`, { hint: 'Commands: run, demo, dashboard, db, download. See: truefilm --help' });
  }
  if (args.includes('--version') || args.includes('-v')) return { command: 'version' };
  if (args.includes('--help') || args.includes('-h')) {
    return { command: 'help', text: command === 'run' && first !== 'run' ? HELP.main + '\n' + HELP.run : HELP[command] };
  }
  const problems = new Problems();
  const dataDirOf = (v: string | undefined): string => v ?? env.TRUEFILM_DATA_DIR ?? DEFAULTS.dataDir;

  if (command === 'db') {
    const { values } = parse(args, DB_OPTIONS, command);
    const port = values.port ?? env.TRUEFILM_PG_PORT;
    const config: DbConfig = {
      command,
      dataDir: dataDirOf(values['data-dir']),
      showPassword: values['show-password'] ?? false,
      port: port === undefined ? null : portNumber(problems, '--port', port, 0),
    };
    problems.throwIfAny(command);
    return config;
  }

  if (command === 'download') {
    const config = parseDownloadArgs(args, env, { problems, contactOf: (flag, text) => contactOf(problems, flag, text), defaultDataDir: DEFAULTS.dataDir });
    problems.throwIfAny(command);
    return config;
  }

  if (command === 'dashboard') {
    const { values } = parse(args, DASHBOARD_OPTIONS, command);
    const config: DashboardConfig = {
      command,
      port: portNumber(problems, '--port', values.port ?? env.TRUEFILM_DASHBOARD_PORT, DEFAULTS.dashboardPort),
      host: values.host ?? env.TRUEFILM_DASHBOARD_HOST ?? DEFAULTS.dashboardHost,
      databaseUrl: databaseUrl(problems, values['database-url'] ? '--database-url' : 'DATABASE_URL', values['database-url'] ?? env.DATABASE_URL),
      dataDir: dataDirOf(values['data-dir']),
    };
    problems.throwIfAny(command);
    return config;
  }

  const { values } = parse(args, RUN_OPTIONS, command);
  const dataDir = dataDirOf(values['data-dir']);
  // the demo's inputs are the sample, whatever the environment says of the user's own
  const envAbstracts = command === 'demo' ? [path.join(SAMPLE.dir, SAMPLE.abstracts)] : env.TRUEFILM_ABSTRACTS?.split(path.delimiter).filter((p) => p !== '');
  const namedAbstracts = values.abstracts ?? (envAbstracts && envAbstracts.length > 0 ? envAbstracts : undefined);

  let minBudget: number = DEFAULTS.minBudget;
  if (values['min-budget'] !== undefined) {
    const text = values['min-budget'];
    if (!/^\s*\d+(\.\d+)?\s*$/.test(text)) problems.add(`--min-budget must be a number of dollars, 0 or more, got ${JSON.stringify(text)}`);
    else minBudget = Number(text);
  }
  const sparqlEndpoint = httpUrl(problems, '--sparql-endpoint', values['sparql-endpoint'] ?? env.TRUEFILM_SPARQL_ENDPOINT ?? DEFAULTS.sparqlEndpoint);
  const wikipediaEndpoint = httpUrl(problems, '--wikipedia-endpoint', values['wikipedia-endpoint'] ?? env.TRUEFILM_WIKIPEDIA_ENDPOINT ?? DEFAULTS.wikipediaEndpoint);
  const contact = contactOf(problems, values.contact !== undefined ? '--contact' : 'TRUEFILM_CONTACT', values.contact ?? env.TRUEFILM_CONTACT);
  const metadata = values.metadata ?? (command === 'demo' ? path.join(SAMPLE.dir, SAMPLE.metadata) : (env.TRUEFILM_METADATA ?? path.join(dataDir, DEFAULTS.metadataFile)));
  if (metadata.trim() === '') problems.add('--metadata must name a file');

  const config: RunConfig = {
    command: 'run',
    metadata,
    abstracts: namedAbstracts ?? [path.join(dataDir, DEFAULTS.abstractsFile)],
    abstractsNamed: namedAbstracts !== undefined,
    top: positiveInt(problems, '--top', values.top, DEFAULTS.top, 10_000_000),
    minBudget,
    threads: positiveInt(problems, '--threads', values.threads, DEFAULTS.threads, 256),
    databaseUrl: databaseUrl(problems, values['database-url'] ? '--database-url' : 'DATABASE_URL', values['database-url'] ?? env.DATABASE_URL),
    dataDir,
    sparqlEndpoint,
    wikipediaEndpoint,
    contact,
    offline: values.offline ?? false,
    requireWikidata: values['require-wikidata'] ?? false,
    report: values.report ?? null,
    progress: !(values['no-progress'] ?? false),
  };
  if (config.offline && config.requireWikidata) problems.add('--offline and --require-wikidata cannot go together');
  problems.throwIfAny(command);
  return command === 'demo' ? { command, run: config } : config;
}
