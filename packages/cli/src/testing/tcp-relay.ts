/**
 * TcpRelay: a byte-for-byte TCP relay on 127.0.0.1, put between a till and
 * its server so that a crash test can act at a known point of an exchange:
 * SIGKILL the server while a batch is in flight, or hold back a batch's
 * answer (the server has committed it) and then kill whoever waits on it.
 * Neither program is changed or told.
 *
 * It understands just enough HTTP/1.1 for that: a request starts at the
 * beginning of a client chunk, and its answer is the next thing the server
 * sends on that connection (fetch sends one request at a time per
 * connection, and a terminal has at most one request in flight).
 *
 *   client ──chunk "POST /v1/batches"──▶ relay ──▶ server     batch in flight
 *   client ◀────────── answer ────────── relay ◀── server     delivered, or held
 *
 * When either side closes or fails, the other side is cut too, as a dying
 * process's peer would see it. While the server is down, every connection is
 * refused on to the client.
 */
import net from 'node:net';

const BATCH_REQUEST = 'POST /v1/batches ';

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  /** A batch request went up and its answer has not come back yet. */
  awaitingAnswer: boolean;
  /** The answer is being held back: nothing more reaches the client. */
  held: boolean;
}

type Waiter = { kind: 'sent' | 'delivered' | 'held'; resolve: () => void };

export class TcpRelay {
  readonly port: number;
  /** Batch requests relayed to the server. */
  batchesSent = 0;
  /** Batch answers relayed to the client. */
  answersDelivered = 0;
  /** Batch answers held back (never delivered). */
  answersHeld = 0;
  readonly #server: net.Server;
  readonly #links = new Set<Link>();
  #waiters: Waiter[] = [];
  #holdNext = false;

  /** Listens on an ephemeral loopback port and relays each connection to `targetPort`. */
  static async start(targetPort: number): Promise<TcpRelay> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('relay: no address');
    return new TcpRelay(server, address.port, targetPort);
  }

  private constructor(server: net.Server, port: number, targetPort: number) {
    this.#server = server;
    this.port = port;
    server.on('connection', (client) => this.#relay(client, targetPort));
  }

  /** Batches relayed to the server whose answer has not come back. */
  get batchesInFlight(): number {
    let n = 0;
    for (const link of this.#links) if (link.awaitingAnswer && !link.held) n++;
    return n;
  }

  /**
   * Resolves when the next batch request has been relayed to the server.
   * `act` runs synchronously at that moment, before the relay reads
   * anything more: a SIGKILL sent from it finds the batch in flight.
   */
  nextBatchSent(timeoutMs: number, act?: () => void): Promise<void> {
    return this.#wait('sent', timeoutMs, 'a batch request', act);
  }

  /** Resolves when the next batch answer has been relayed to the client. */
  nextAnswerDelivered(timeoutMs: number): Promise<void> {
    return this.#wait('delivered', timeoutMs, 'a batch answer');
  }

  /**
   * Holds back the next batch answer: the server has committed the batch
   * and answered, the client never hears. Resolves once it is held; the
   * connection stays open until either side goes away.
   */
  holdNextAnswer(timeoutMs: number): Promise<void> {
    this.#holdNext = true;
    return this.#wait('held', timeoutMs, 'a batch answer to hold').finally(() => {
      this.#holdNext = false;
    });
  }

  async close(): Promise<void> {
    for (const link of this.#links) this.#cut(link);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: net.Socket, targetPort: number): void {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const link: Link = { client, upstream, awaitingAnswer: false, held: false };
    this.#links.add(link);
    client.on('data', (chunk: Buffer) => {
      const isBatch = chunk.toString('latin1', 0, BATCH_REQUEST.length) === BATCH_REQUEST;
      upstream.write(chunk);
      if (!isBatch) return;
      link.awaitingAnswer = true;
      this.batchesSent++;
      this.#notify('sent');
    });
    upstream.on('data', (chunk: Buffer) => {
      if (link.held) return;
      const answer = link.awaitingAnswer;
      link.awaitingAnswer = false;
      if (answer && this.#holdNext) {
        this.#holdNext = false;
        link.held = true;
        this.answersHeld++;
        this.#notify('held');
        return;
      }
      client.write(chunk);
      if (!answer) return;
      this.answersDelivered++;
      this.#notify('delivered');
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => this.#cut(link));
      socket.on('close', () => this.#cut(link));
    }
  }

  #cut(link: Link): void {
    link.client.destroy();
    link.upstream.destroy();
    this.#links.delete(link);
  }

  #wait(kind: Waiter['kind'], timeoutMs: number, what: string, act?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        kind,
        resolve: () => {
          clearTimeout(timer);
          try {
            act?.();
            resolve();
          } catch (error) {
            reject(error);
          }
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`relay: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #notify(kind: Waiter['kind']): void {
    const ready = this.#waiters.filter((w) => w.kind === kind);
    this.#waiters = this.#waiters.filter((w) => w.kind !== kind);
    for (const waiter of ready) waiter.resolve();
  }
}
