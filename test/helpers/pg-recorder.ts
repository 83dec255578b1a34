/**
 * A TCP proxy in front of a PostgreSQL server that writes down what the
 * client says, message by message (the frontend side of the protocol): the
 * SQL of every simple query and every prepared statement, and how many COPY
 * data messages and bytes went by. It is how a test sees *how* the data went
 * in, not only that it arrived.
 */
import { proxyTo } from './pg-proxy.js';

export interface PgRecorder {
  /** the proxied server's URL with the recorder's port */
  url: string;
  /** the SQL sent, in order: simple queries ('Q') and prepared statements ('P') */
  statements: string[];
  /** CopyData messages sent, and their payload bytes */
  copy: { messages: number; bytes: number };
  close(): Promise<void>;
}

/** Splits the client's byte stream into messages: the startup message has no type byte, the rest do. */
class Frontend {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;

  constructor(private readonly onMessage: (type: string, body: Buffer) => void) {}

  feed(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerSize = this.started ? 5 : 4;
      if (this.buffer.length < headerSize) return;
      const length = this.buffer.readInt32BE(this.started ? 1 : 0);
      const total = (this.started ? 1 : 0) + length;
      if (this.buffer.length < total) return;
      const message = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      if (this.started) this.onMessage(String.fromCharCode(message[0]!), message.subarray(5));
      else {
        // an SSLRequest (80877103) is answered 'N' by the server, then the real startup follows
        const code = message.readInt32BE(4);
        if (code !== 80877103) this.started = true;
      }
    }
  }
}

const cString = (body: Buffer, from: number): [string, number] => {
  const end = body.indexOf(0, from);
  return [body.toString('utf8', from, end), end + 1];
};

export async function startPgRecorder(targetUrl: string): Promise<PgRecorder> {
  const recorder: PgRecorder = { url: '', statements: [], copy: { messages: 0, bytes: 0 }, close: async () => {} };
  const onMessage = (type: string, body: Buffer): void => {
    if (type === 'Q') recorder.statements.push(cString(body, 0)[0]);
    else if (type === 'P') recorder.statements.push(cString(body, cString(body, 0)[1])[0]);
    else if (type === 'd') {
      recorder.copy.messages++;
      recorder.copy.bytes += body.length;
    }
  };
  const proxy = await proxyTo(targetUrl, (client, upstream) => {
    const frontend = new Frontend(onMessage);
    client.on('data', (chunk: Buffer) => {
      frontend.feed(chunk);
      upstream.write(chunk);
    });
  });
  recorder.url = proxy.url;
  recorder.close = proxy.close;
  return recorder;
}
