/**
 * Can a service be reached at all? A connection opened to its host (TCP, and
 * TLS for https), then closed at once: no request is sent. It tells "no
 * network" (an unknown host, a refused connection, packets dropped until the
 * timeout) from a service that answers, before a run that would spend its
 * time waiting on each stage's connections in turn.
 */
import net from 'node:net';
import tls from 'node:tls';
import { formatDuration } from '../format.js';
import { CONNECT_TIMEOUT_MS } from './retry.js';

const WHY: Record<string, string> = {
  ENOTFOUND: 'the name does not resolve',
  EAI_AGAIN: 'the name does not resolve',
  ECONNREFUSED: 'connection refused',
  ENETUNREACH: 'no route to the network',
  EHOSTUNREACH: 'no route to the host',
  ECONNRESET: 'connection reset',
};

/** null when a connection to `url`'s host opens within `timeoutMs`; else why not, in a few words. */
export function unreachable(url: string, timeoutMs: number = CONNECT_TIMEOUT_MS): Promise<string | null> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve('not a valid URL');
  }
  const secure = target.protocol === 'https:';
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port || (secure ? 443 : 80));
  return new Promise((resolve) => {
    const socket = secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    const done = (why: string | null): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no answer to connect within ${formatDuration(timeoutMs)}`), timeoutMs);
    socket.once(secure ? 'secureConnect' : 'connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // a TLS error means something answered: the run itself will say what is wrong with it
      if (secure && err.code !== undefined && /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(err.code)) done(null);
      else done(err.code === undefined ? err.message : `${WHY[err.code] ?? 'cannot connect'}: ${err.code}`);
    });
  });
}
