/**
 * A real, tiny authoritative DNS server on UDP 127.0.0.1 for tests. Records
 * can be changed while it runs, and it can be told to fail (SERVFAIL), to hold
 * answers back until released, or be stopped and restarted on the same port,
 * so discovery code is tested against real c-ares resolution rather than a
 * mocked resolver.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import * as packet from 'dns-packet';

export interface SrvRecordInit {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface ZoneEntry {
  A?: string[];
  AAAA?: string[];
  SRV?: SrvRecordInit[];
}

/** 'answer' serves the zone; 'servfail' answers every query with SERVFAIL; 'hold' queues answers. */
export type ServerMode = 'answer' | 'servfail' | 'hold';

export interface QueryLogEntry {
  name: string;
  type: string;
}

const SERVFAIL = 2;
const NXDOMAIN = 3;

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export class TestDnsServer {
  readonly queries: QueryLogEntry[] = [];
  mode: ServerMode = 'answer';
  /** Record types answered with SERVFAIL even in 'answer' mode (e.g. a resolver that fails AAAA). */
  readonly servfailTypes = new Set<string>();
  ttl = 30;
  #zone = new Map<string, ZoneEntry>();
  #socket: Socket | undefined;
  #port = 0;
  #held: Array<() => void> = [];
  #queryWaiters: Array<{ count: number; resolve: () => void }> = [];

  static async start(zone: Record<string, ZoneEntry> = {}): Promise<TestDnsServer> {
    const server = new TestDnsServer();
    for (const [name, entry] of Object.entries(zone)) server.set(name, entry);
    await server.listen();
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /** `127.0.0.1:PORT`, the form `Resolver.setServers()` takes. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Replace every record of `name`. */
  set(name: string, entry: ZoneEntry): void {
    this.#zone.set(normalise(name), entry);
  }

  /** Remove `name`, so queries for it get NXDOMAIN. */
  delete(name: string): void {
    this.#zone.delete(normalise(name));
  }

  queryCount(name?: string, type?: string): number {
    return this.queries.filter(
      (q) => (name === undefined || q.name === normalise(name)) && (type === undefined || q.type === type),
    ).length;
  }

  /** Resolves once the server has received `count` queries in total (event-driven, no polling). */
  waitForQueries(count: number): Promise<void> {
    if (this.queries.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#queryWaiters.push({ count, resolve }));
  }

  /** Send every answer held back in 'hold' mode and go back to answering. */
  release(): void {
    this.mode = 'answer';
    const held = this.#held;
    this.#held = [];
    for (const send of held) send();
  }

  /** Bind (again) on the same port, so a stopped server can come back. */
  async listen(): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => this.#onMessage(socket, msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#port = (socket.address() as AddressInfo).port;
    this.#socket = socket;
  }

  /** Close the socket: queries are then refused by the kernel (ICMP port unreachable). */
  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#held = [];
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  #onMessage(socket: Socket, msg: Buffer, rinfo: RemoteInfo): void {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(msg);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    this.queries.push({ name: normalise(question.name), type: question.type });
    const ready = this.#queryWaiters.filter((w) => w.count <= this.queries.length);
    this.#queryWaiters = this.#queryWaiters.filter((w) => w.count > this.queries.length);
    const reply = this.#answer(query, question);
    const send = () => {
      if (this.#socket === socket) socket.send(packet.encode(reply), rinfo.port, rinfo.address);
    };
    if (this.mode === 'hold') this.#held.push(send);
    else send();
    for (const w of ready) w.resolve();
  }

  #answer(query: packet.DecodedPacket, question: packet.Question): packet.Packet {
    const base = {
      type: 'response' as const,
      id: query.id ?? 0,
      questions: [question],
    };
    const flags = packet.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & packet.RECURSION_DESIRED);
    if (this.mode === 'servfail' || this.servfailTypes.has(question.type)) return { ...base, flags: flags | SERVFAIL, answers: [] };
    const entry = this.#zone.get(normalise(question.name));
    // No such name: NXDOMAIN. A known name without this record type: NOERROR
    // with no answers (NODATA); resolvers report the two differently.
    if (!entry) return { ...base, flags: flags | NXDOMAIN, answers: [] };
    const { name } = question;
    const ttl = this.ttl;
    let answers: packet.Answer[] = [];
    if (question.type === 'A') answers = (entry.A ?? []).map((data) => ({ type: 'A', name, ttl, data }));
    if (question.type === 'AAAA') answers = (entry.AAAA ?? []).map((data) => ({ type: 'AAAA', name, ttl, data }));
    if (question.type === 'SRV') {
      answers = (entry.SRV ?? []).map((r) => ({
        type: 'SRV',
        name,
        ttl,
        data: { target: r.target, port: r.port, priority: r.priority ?? 0, weight: r.weight ?? 0 },
      }));
    }
    return { ...base, flags, answers };
  }
}
