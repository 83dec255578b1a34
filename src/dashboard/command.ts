/**
 * `truefilm dashboard`: opens the database (DATABASE_URL or the embedded
 * server), serves the dashboard until Ctrl-C, then closes both.
 */
import { whenAborted } from '../concurrency.js';
import type { DashboardConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { formatCount, maskUrl } from '../format.js';
import type { Ui } from '../ui.js';
import { startDashboard } from './server.js';

export { startDashboard, type DashboardOptions, type RunningDashboard } from './server.js';

export async function commandDashboard(config: DashboardConfig, ui: Ui, signal: AbortSignal): Promise<void> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, ui });
  try {
    const dashboard = await startDashboard({ databaseUrl: db.url, port: config.port, host: config.host, ui });
    try {
      const films = await dashboard.filmsLoaded().catch(() => undefined);
      const source = db.embedded ? `the embedded PostgreSQL (${maskUrl(db.url)})` : maskUrl(db.url);
      const lines = [
        `TrueFilm dashboard: open ${dashboard.url}`,
        `  reading ${source}, read-only`,
        films === null
          ? '  no data has been loaded yet: run `npm run demo` (sample data) or `truefilm run` into this database'
          : films === undefined
            ? ''
            : `  ${formatCount(films)} films loaded`,
        '  press Ctrl-C to stop',
      ];
      process.stdout.write(lines.filter((l) => l !== '').join('\n') + '\n');
      await whenAborted(signal);
      ui.info('stopping the dashboard…');
    } finally {
      await dashboard.close();
    }
  } finally {
    await db.close();
  }
}
