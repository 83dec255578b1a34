/**
 * A TCP proxy in front of a PostgreSQL server that reads the client's side of
 * the protocol, so that a test can act at an exact point of a load: before the
 * first COPY data of any connection reaches the server, the proxy holds it and
 * awaits `beforeCopyData` (a test freezes the server there), then goes on.
 */
import net from 'node:net';

export interface PgProxy {
  /** the proxied server's URL with the proxy's port */
  url: string;
  /** connections made through the proxy so far */
  connections: number;
  close(): Promise<void>;
}

/** Finds where the first CopyData ('d') message starts in the client's byte stream. */
class FrontendReader {
  private started = false;
  /** bytes of the current message still to skip */
  private skip = 0;
  private header = Buffer.alloc(0);
  seenCopyData = false;

  /** The offset in `chunk` where the first CopyData message begins, or -1. */
  feed(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length && !this.seenCopyData) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      // the startup message has no type byte: int32 length, then the rest
      const headerSize = this.started ? 5 : 4;
      const need = headerSize - this.header.length;
      const part = chunk.subarray(at, at + need);
      const headerStart = at - this.header.length;
      this.header = Buffer.concat([this.header, part]);
      at += part.length;
      if (this.header.length < headerSize) break;
      if (this.started && this.header[0] === 0x64 /* 'd' */) {
        this.seenCopyData = true;
        return Math.max(headerStart, 0);
      }
      const length = this.header.readInt32BE(this.started ? 1 : 0);
      this.skip = length - 4;
      this.started = true;
      this.header = Buffer.alloc(0);
    }
    return -1;
  }
}

/** A TCP proxy to a PostgreSQL server: `onClient` wires each client to its upstream connection (and may read or hold what the client sends). */
export async function proxyTo(targetUrl: string, onClient: (client: net.Socket, upstream: net.Socket) => void): Promise<PgProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  const proxy: PgProxy = { url: '', connections: 0, close: async () => {} };
  const server = net.createServer((client) => {
    proxy.connections++;
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    onClient(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  proxy.url = url.toString();
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

export async function startPgProxy(targetUrl: string, beforeCopyData: () => Promise<void>): Promise<PgProxy> {
  let copySeen = false;
  return proxyTo(targetUrl, (client, upstream) => {
    const reader = new FrontendReader();
    client.on('data', (chunk: Buffer) => {
      if (copySeen || reader.seenCopyData) {
        upstream.write(chunk);
        return;
      }
      const at = reader.feed(chunk);
      if (at < 0) {
        upstream.write(chunk);
        return;
      }
      copySeen = true;
      upstream.write(chunk.subarray(0, at));
      client.pause();
      void beforeCopyData().then(() => {
        upstream.write(chunk.subarray(at));
        client.resume();
      });
    });
  });
}
