#!/usr/bin/env node
/**
 * TrueFilm's command line: parse the options, run one command, and exit with
 * the status of SPEC section 2. The only place that exits.
 */
import { writeFile } from 'node:fs/promises';
import { parseCommandLine, VERSION, type DbConfig, type RunConfig } from './config.js';
import { TrueFilmError, describeError, exitStatusFor } from './errors.js';
import { maskUrl } from './format.js';
import { createUi, type Ui } from './ui.js';

const SIGNAL_STATUS: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
/**
 * How long a command may take to wind down after SIGINT/SIGTERM. Its own
 * bounds (a cancel, a dropped connection) come first; this one holds whatever
 * a stopped or frozen server, input or network does.
 */
const STOP_DEADLINE_MS = 4000;

/** What stopping means for a command, in the words said at each step of it. */
interface StopWords {
  /** on the first signal: "<signal> received: <stopping>; press Ctrl-C again..." */
  stopping: string;
  /** once stopped: "stopped by <signal>; <stopped>." */
  stopped: string;
  /** when the command did not wind down in time: "stopped by <signal> <abandoned>." */
  abandoned: string;
}

const LOAD_STOP: StopWords = {
  stopping: 'stopping',
  stopped: 'the previous load, if any, is untouched',
  abandoned: 'without waiting any longer for the database to let go; nothing partial was committed, and the previous load, if any, is untouched',
};

const DOWNLOAD_STOP: StopWords = {
  stopping: 'stopping (partial downloads are kept as .part files)',
  stopped: 'partial downloads are kept as .part files: run it again to resume',
  abandoned: 'without waiting any longer; partial downloads are kept as .part files: run it again to resume',
};

/**
 * Aborts `controller` on the first SIGINT/SIGTERM; a second one exits at once.
 * `current()` gives the command's Ui (its progress bars) and what stopping means for it.
 */
function trapSignals(controller: AbortController, current: () => { ui: Ui; words: StopWords }): { signal: () => string | null } {
  let received: string | null = null;
  for (const name of Object.keys(SIGNAL_STATUS)) {
    process.on(name, () => {
      const { ui, words } = current();
      if (received !== null) {
        ui.close();
        process.exit(SIGNAL_STATUS[name]);
      }
      received = name;
      ui.warn(`${name} received: ${words.stopping}; press Ctrl-C again to quit at once`);
      controller.abort(new TrueFilmError('INTERRUPTED', `stopped by ${name}`));
      setTimeout(() => {
        ui.close();
        process.stderr.write(`truefilm: stopped by ${name} ${words.abandoned}.\n`);
        process.exit(SIGNAL_STATUS[name]);
      }, STOP_DEADLINE_MS).unref();
    });
  }
  return { signal: () => received };
}

async function commandRun(config: RunConfig, ui: Ui, signal: AbortSignal): Promise<void> {
  // loaded here, not at the top: --version and --help need none of pg, piscina, undici
  const { runPipeline } = await import('./pipeline.js');
  const { printSummary } = await import('./summary.js');
  const result = await runPipeline(config, ui, signal);
  if (config.report) {
    await writeFile(config.report, JSON.stringify(result.report, null, 2) + '\n').catch((err: unknown) => {
      throw new TrueFilmError('INPUT_UNREADABLE', `cannot write the run report: ${(err as Error).message}`, {
        input: config.report!,
        hint: 'The load itself succeeded; choose a writable --report path next time.',
        cause: err,
      });
    });
  }
  printSummary(result);
}

async function commandDb(config: DbConfig, ui: Ui, signal: AbortSignal): Promise<void> {
  const { openDatabase } = await import('./db/database.js');
  const { serverStoppedError, untilServerStops } = await import('./db/embedded.js');
  const db = await openDatabase({ databaseUrl: null, dataDir: config.dataDir, ui, embeddedPort: config.port ?? undefined });
  const embedded = db.embedded!;
  try {
    const shown = config.showPassword ? db.url : maskUrl(db.url);
    process.stdout.write(
      [
        embedded.startedHere
          ? 'The embedded PostgreSQL is running.'
          : 'The embedded PostgreSQL was already running (another TrueFilm process uses it); this command keeps it running too.',
        `  URL:      ${shown}`,
        `  cluster:  ${embedded.clusterDir}`,
        `  psql:     psql "${shown}"${config.showPassword ? '' : '   (the password is in ' + config.dataDir + '/.pg-password; --show-password prints it)'}`,
        'Press Ctrl-C to stop it (it keeps running while another TrueFilm process uses it).',
        '',
      ].join('\n'),
    );
    if (await untilServerStops(embedded, signal)) throw await serverStoppedError(embedded, '`truefilm db`');
    const { others } = await embedded.stop();
    ui.info(
      others === 0
        ? 'the embedded PostgreSQL is stopped'
        : `the embedded PostgreSQL keeps running: ${others} other TrueFilm process${others === 1 ? ' uses' : 'es use'} it, and the last to finish stops it`,
    );
  } finally {
    await db.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  let ui: Ui = createUi({ progress: false });
  let words: StopWords = LOAD_STOP;
  const controller = new AbortController();
  const signals = trapSignals(controller, () => ({ ui, words }));
  try {
    const config = parseCommandLine(argv);
    switch (config.command) {
      case 'help':
        process.stdout.write(config.text);
        return 0;
      case 'version':
        process.stdout.write(`truefilm ${VERSION}\n`);
        return 0;
      case 'run':
        ui = createUi({ progress: config.progress });
        words = { ...LOAD_STOP, stopping: 'stopping (nothing partial is loaded; the previous load stays)' };
        await commandRun(config, ui, controller.signal);
        break;
      case 'demo': {
        ui = createUi({ progress: config.run.progress });
        words = { ...LOAD_STOP, stopping: 'stopping (nothing partial is loaded; the previous load stays)' };
        const { planDemo } = await import('./demo.js');
        const plan = await planDemo(config.run);
        await commandRun(plan.run, ui, controller.signal);
        if (plan.note !== null) process.stdout.write(`\n${plan.note}\n`);
        break;
      }
      case 'db':
        await commandDb(config, ui, controller.signal);
        break;
      case 'download': {
        ui = createUi({ progress: config.progress });
        words = DOWNLOAD_STOP;
        const { commandDownload } = await import('./download/command.js');
        await commandDownload(config, ui, controller.signal);
        break;
      }
      case 'dashboard': {
        const { commandDashboard } = await import('./dashboard/command.js');
        await commandDashboard(config, ui, controller.signal);
        break;
      }
    }
    // a command stopped by a signal says so in its status, as the shell's own would (130 Ctrl-C, 143 SIGTERM)
    const received = signals.signal();
    return received ? SIGNAL_STATUS[received]! : 0;
  } catch (err) {
    ui.close();
    const received = signals.signal();
    if (received) {
      process.stderr.write(`truefilm: stopped by ${received}; ${words.stopped}.\n`);
      return SIGNAL_STATUS[received]!;
    }
    process.stderr.write(`truefilm: ${maskUrl(describeError(err))}\n`);
    if (!(err instanceof TrueFilmError) && process.env.TRUEFILM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return exitStatusFor(err);
  } finally {
    ui.close();
  }
}

const status = await main(process.argv.slice(2));
process.exit(status);
