/**
 * `truefilm demo` (`npm run demo`): the pipeline on the bundled sample. It
 * asks Wikidata and the live Wikipedia when they can be reached, so that a
 * newcomer's first run shows the join; with no network it runs offline at
 * once and says so in one line, instead of waiting on each service in turn.
 */
import type { RunConfig } from './config.js';
import { unreachable } from './http/reach.js';

export interface DemoPlan {
  run: RunConfig;
  /** said after the run when it went offline for want of a network; null otherwise */
  note: string | null;
}

/**
 * The run to make: online when both services answer a connection (both are
 * tried at once, so no network costs one connect timeout), else offline.
 */
export async function planDemo(run: RunConfig): Promise<DemoPlan> {
  if (run.offline) return { run, note: null };
  const endpoints = [run.sparqlEndpoint, run.wikipediaEndpoint];
  const why = await Promise.all(endpoints.map((url) => unreachable(url)));
  const down = endpoints.flatMap((url, i) => (why[i] === null ? [] : [`${new URL(url).host} (${why[i]})`]));
  if (down.length === 0) return { run, note: null };
  return {
    run: { ...run, offline: true },
    note:
      `The demo ran offline: ${down.join(' and ')} cannot be reached. ` +
      'With a network, Wikidata and the live English Wikipedia match these films and give their abstracts ' +
      '(the README shows such a run).',
  };
}
