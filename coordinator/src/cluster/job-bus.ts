/**
 * Requests between coordinator processes about one job (issue 17 part 3), over a Redis pub/sub
 * channel (`<GRIDTAB_REDIS_CHANNEL>:jobs`) that every process subscribes to: a non-owner asks the
 * job's owner for a unit, tells it an update was accepted, and the owner asks every process for
 * its partial sum when a round closes. A message goes to every process but the sender; a handler
 * that answers `undefined` stays silent (it is not the one asked), anything else is sent back to
 * the asker alone. Pub/sub keeps the order of one sender's messages and forgets what nobody was
 * subscribed for, so nothing here is the record: the store is (shared-rounds.ts says what falls
 * back to it).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

interface Envelope {
  t: string;
  /** The sender's process id on the bus. */
  from: string;
  /** A request's id (its replies carry it back); absent for a notice. */
  id?: string;
  /** For a reply: the asker. */
  to?: string;
  body: unknown;
}

type Handler = (body: unknown, from: string) => unknown | Promise<unknown>;

interface Waiting {
  replies: unknown[];
  want: number;
  done: (replies: unknown[]) => void;
  timer: NodeJS.Timeout;
}

export class JobBus {
  /** This process on the bus. */
  readonly id = randomUUID();
  private readonly handlers = new Map<string, Handler>();
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    readonly channel: string,
    private readonly log: (msg: string) => void,
  ) {}

  async start(): Promise<void> {
    this.sub.on('message', (channel: string, raw: string) => {
      if (channel === this.channel) void this.receive(raw);
    });
    await this.sub.subscribe(this.channel);
  }

  /** Handles messages of `type` from other processes. */
  on(type: string, handler: Handler): void {
    this.handlers.set(type, handler);
  }

  /** How many other processes listen on the bus now (Redis's PUBSUB NUMSUB, less this one). */
  async peers(): Promise<number> {
    const answer = (await this.pub.call('PUBSUB', 'NUMSUB', this.channel)) as [string, number | string];
    return Math.max(0, Number(answer[1]) - 1);
  }

  /** A message nobody answers. */
  notify(type: string, body: unknown): void {
    this.send({ t: type, from: this.id, body });
  }

  /** Asks the other processes; resolves with the first `want` replies, or those in `timeoutMs`. */
  request(type: string, body: unknown, want: number, timeoutMs: number): Promise<unknown[]> {
    if (want <= 0) return Promise.resolve([]);
    const id = randomUUID();
    return new Promise((resolve) => {
      const finish = (replies: unknown[]) => {
        clearTimeout(waiting.timer);
        this.waiting.delete(id);
        resolve(replies);
      };
      const waiting: Waiting = {
        replies: [],
        want,
        done: finish,
        timer: setTimeout(() => finish(waiting.replies), timeoutMs),
      };
      this.waiting.set(id, waiting);
      this.send({ t: type, from: this.id, id, body });
    });
  }

  async close(): Promise<void> {
    for (const w of [...this.waiting.values()]) w.done(w.replies);
    await this.sub.unsubscribe(this.channel).catch(() => {});
  }

  private send(message: Envelope): void {
    this.pub.publish(this.channel, JSON.stringify(message)).catch((e) => {
      this.log(`job bus: publishing ${message.t} failed: ${(e as Error).message}`);
    });
  }

  private async receive(raw: string): Promise<void> {
    let message: Envelope;
    try {
      message = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (message.from === this.id) return;
    if (message.t === 'reply') {
      const waiting = message.to === this.id && message.id ? this.waiting.get(message.id) : undefined;
      if (!waiting) return;
      waiting.replies.push(message.body);
      if (waiting.replies.length >= waiting.want) waiting.done(waiting.replies);
      return;
    }
    const handler = this.handlers.get(message.t);
    if (!handler) return;
    try {
      const answer = await handler(message.body, message.from);
      if (answer !== undefined && message.id)
        this.send({ t: 'reply', from: this.id, to: message.from, id: message.id, body: answer });
    } catch (e) {
      this.log(`job bus: handling ${message.t} failed: ${(e as Error).message}`);
    }
  }
}
