/**
 * State behind the admin console: the token (kept in sessionStorage, so it lasts as long as
 * the tab), the /console socket and its latest snapshot, a short history of throughput for the
 * chart, the current page, and the actions. Components only read from here and call methods.
 */
import {
  ask,
  CONSOLE_NAMESPACE,
  type ConsoleClientEvents,
  type ConsoleServerEvents,
  type ConsoleSnapshot,
  type JobAction,
  type JobSpecInput,
  type JobStats,
  type JobView,
  type Result,
  type VersionView,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { type QuarantineRelease, releaseQuarantine } from './contributor-api.ts';
import { datasetApi } from './datasets/dataset-api.ts';
import { registryApi } from './registry-api.ts';
import { createToken, listTokens, revokeToken, type TokenView } from './token-api.ts';

export const TOKEN_KEY = 'gridtab.console.token';
/** Ten minutes of one-second samples. */
const HISTORY_POINTS = 600;

export type ConsolePage =
  | { name: 'overview' }
  | { name: 'jobs' }
  | { name: 'job'; jobId: string }
  | { name: 'contributors' }
  | { name: 'models' }
  | { name: 'datasets'; dataset?: string; version?: number }
  | { name: 'telemetry' }
  | { name: 'alerts' }
  | { name: 'tokens' }
  | { name: 'usage' }
  | { name: 'sweeps'; sweepId?: string };

const SIMPLE_PAGES = ['jobs', 'contributors', 'models', 'telemetry', 'alerts', 'tokens', 'usage'] as const;

export interface RatePoint {
  /** Seconds since the epoch (uPlot's time scale). */
  t: number;
  samplesPerSec: number;
}

/** One second of the Telemetry page's time series. */
export interface TelemetryPoint {
  t: number;
  lagP99Ms: number;
  heapMiB: number;
  storeP95Ms: number | null;
  /** Inference latency p95 by `model/version`. */
  inferenceP95Ms: Record<string, number | null>;
}

type ConsoleSocket = Socket<ConsoleServerEvents, ConsoleClientEvents>;

export function pageFromHash(hash: string): ConsolePage {
  const [, name, id] = /^#\/?([a-z]*)\/?(.*)$/.exec(hash) ?? [];
  if (name === 'jobs' && id) return { name: 'job', jobId: decodeURIComponent(id) };
  if (name === 'sweeps') return id ? { name, sweepId: decodeURIComponent(id) } : { name };
  if (name === 'datasets') {
    // #/datasets/cars@2 (or #/datasets/cars for its latest version)
    const [dataset, version] = decodeURIComponent(id ?? '').split('@');
    return {
      name,
      ...(dataset ? { dataset } : {}),
      ...(version && Number(version) > 0 ? { version: Number(version) } : {}),
    };
  }
  const simple = SIMPLE_PAGES.find((p) => p === name);
  if (simple) return { name: simple };
  return { name: 'overview' };
}

export function hashOf(page: ConsolePage): string {
  if (page.name === 'sweeps' && page.sweepId) return `#/sweeps/${encodeURIComponent(page.sweepId)}`;
  if (page.name === 'datasets' && page.dataset)
    return `#/datasets/${encodeURIComponent(page.dataset)}${page.version ? `@${page.version}` : ''}`;
  return page.name === 'job' ? `#/jobs/${encodeURIComponent(page.jobId)}` : `#/${page.name}`;
}

const messageOf = <T>(r: Result<T>) => (r.ok ? '' : `${r.error.code}: ${r.error.message}`);

export class ConsoleModel {
  status = $state<'signed-out' | 'connecting' | 'connected' | 'disconnected'>('signed-out');
  loginError = $state<string | null>(null);
  snapshot = $state.raw<ConsoleSnapshot | null>(null);
  history = $state.raw<RatePoint[]>([]);
  telemetryHistory = $state.raw<TelemetryPoint[]>([]);
  page = $state<ConsolePage>({ name: 'overview' });
  /** Errors of actions (create, pause...), shown next to the controls. */
  actionError = $state<string | null>(null);
  busy = $state(false);
  /** Tokens created through the API (admins only), and the secret of the one just created. */
  tokens = $state.raw<TokenView[]>([]);
  newSecret = $state<{ label: string; token: string } | null>(null);

  readonly role = $derived(this.snapshot?.role ?? null);
  readonly canAct = $derived(this.role === 'admin');
  readonly jobs = $derived<JobView[]>(this.snapshot?.jobs ?? []);

  private socket: ConsoleSocket | null = null;
  /** The token signed in with; sent as the bearer of the token-management and registry calls. */
  private token = '';
  /** Registry reads and moves, with this console's token (a getter: fields run before the constructor). */
  get registry() {
    return registryApi(this.baseUrl, () => this.token);
  }

  /** Dataset registry reads and deletes, with this console's token. */
  get datasets() {
    return datasetApi(this.baseUrl, () => this.token);
  }

  constructor(
    private readonly baseUrl: string,
    private readonly storage: Storage,
  ) {}

  /** Signs in again with the token of an earlier visit in this tab, if any. */
  resume(): void {
    const token = this.storage.getItem(TOKEN_KEY);
    if (token) this.login(token);
  }

  login(token: string): void {
    this.socket?.disconnect();
    this.loginError = null;
    this.status = 'connecting';
    this.token = token.trim();
    const socket: ConsoleSocket = io(`${this.baseUrl}${CONSOLE_NAMESPACE}`, {
      transports: ['websocket'],
      auth: { token: token.trim() },
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.status = 'connected';
      this.storage.setItem(TOKEN_KEY, token.trim());
    });
    socket.on('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
      if (err.data?.code === 'UNAUTHORIZED') {
        // A refused token will not start working on retry: stop and ask for another.
        socket.disconnect();
        this.socket = null;
        this.storage.removeItem(TOKEN_KEY);
        this.status = 'signed-out';
        this.loginError = 'That token was refused: it is unknown or was revoked.';
      } else if (err.data?.code === 'RATE_LIMITED') {
        // Too many wrong tokens from this address: retrying now is refused too; say for how long.
        socket.disconnect();
        this.socket = null;
        this.status = 'signed-out';
        this.loginError =
          err.data.message ?? 'Too many failed token attempts from this address; retry later.';
      } else this.status = 'disconnected';
    });
    socket.on('disconnect', () => {
      if (this.socket === socket) this.status = 'disconnected';
    });
    socket.on('console:snapshot', (snap) => this.receive(snap));
  }

  logout(): void {
    this.socket?.disconnect();
    this.socket = null;
    this.storage.removeItem(TOKEN_KEY);
    this.token = '';
    this.tokens = [];
    this.newSecret = null;
    this.snapshot = null;
    this.history = [];
    this.telemetryHistory = [];
    this.status = 'signed-out';
  }

  go(page: ConsolePage): void {
    this.page = page;
    this.actionError = null;
  }

  private receive(snap: ConsoleSnapshot): void {
    this.snapshot = snap;
    const point = { t: snap.at / 1000, samplesPerSec: snap.samplesPerSec };
    this.history = [...this.history, point].slice(-HISTORY_POINTS);
    const c = snap.telemetry.coordinator;
    const tel: TelemetryPoint = {
      t: point.t,
      lagP99Ms: c.eventLoopLagMs.p99,
      heapMiB: c.memory.heapUsedBytes / 2 ** 20,
      storeP95Ms: c.store.p95Ms,
      inferenceP95Ms: Object.fromEntries(
        snap.telemetry.models.map((m) => [`${m.model}/${m.versionId}`, m.latencyP95Ms]),
      ),
    };
    this.telemetryHistory = [...this.telemetryHistory, tel].slice(-HISTORY_POINTS);
  }

  /** An action: its answer, or null with the reason in actionError. `send` calls emitWithAck. */
  private async act<T>(ms: number, send: (s: ConsoleSocket) => Promise<Result<T>>): Promise<T | null> {
    if (!this.socket) return null;
    this.busy = true;
    this.actionError = null;
    try {
      const result = await ask(this.socket, ms, send);
      if (!result.ok) this.actionError = messageOf(result);
      return result.ok ? result.data : null;
    } catch (err) {
      this.actionError = `No answer from the coordinator (${err instanceof Error ? err.message : String(err)})`;
      return null;
    } finally {
      this.busy = false;
    }
  }

  createJob(spec: JobSpecInput): Promise<JobView | null> {
    return this.act(30_000, (s) => s.emitWithAck('job:create', spec));
  }

  control(jobId: string, action: JobAction): Promise<JobView | null> {
    return this.act(10_000, (s) => s.emitWithAck('job:control', { jobId, action }));
  }

  kick(contributorId: string): Promise<{ sockets: number } | null> {
    return this.act(10_000, (s) => s.emitWithAck('contributor:kick', { contributorId }));
  }

  ban(contributorId: string, reason: string): Promise<{ sockets: number } | null> {
    return this.act(10_000, (s) => s.emitWithAck('contributor:ban', { contributorId, reason }));
  }

  unban(contributorId: string): Promise<{ unbanned: boolean } | null> {
    return this.act(10_000, (s) => s.emitWithAck('contributor:unban', { contributorId }));
  }

  /**
   * Lifts a quarantine (back on probation), then asks for a snapshot so the row changes at once
   * instead of at the next push. Says so when there was nothing to lift.
   */
  async releaseQuarantine(contributorId: string): Promise<QuarantineRelease | null> {
    const result = await this.tokenCall(() => releaseQuarantine(this.baseUrl, this.token, contributorId));
    if (result && !result.released) this.actionError = `${contributorId} is not quarantined (any more).`;
    if (result) await this.refresh();
    return result;
  }

  private async refresh(): Promise<void> {
    if (!this.socket) return;
    const result = await ask(this.socket, 10_000, (s) => s.emitWithAck('console:snapshot', {})).catch(
      () => null,
    );
    if (result?.ok) this.receive(result.data);
  }

  async jobStats(jobId: string): Promise<JobStats | null> {
    if (!this.socket) return null;
    const result = await ask(this.socket, 10_000, (s) => s.emitWithAck('job:stats', { jobId }));
    return result.ok ? result.data : null;
  }

  /** Moves an alias to a version through the registry's HTTP API; the snapshot shows the move. */
  async promote(name: string, alias: string, versionId: string): Promise<boolean> {
    return (await this.tokenCall(() => this.registry.promote(name, alias, versionId))) !== null;
  }

  async rollback(name: string, alias: string): Promise<boolean> {
    return (await this.tokenCall(() => this.registry.rollback(name, alias))) !== null;
  }

  private async tokenCall<T>(run: () => Promise<T>): Promise<T | null> {
    this.busy = true;
    this.actionError = null;
    try {
      return await run();
    } catch (err) {
      this.actionError = err instanceof Error ? err.message : String(err);
      return null;
    } finally {
      this.busy = false;
    }
  }

  /** An HTTP API call with this console's token (busy and actionError as for tokens). */
  async apiCall<T>(run: (baseUrl: string, bearer: string) => Promise<T>): Promise<T | null> {
    return this.tokenCall(() => run(this.baseUrl, this.token));
  }

  async loadTokens(): Promise<void> {
    const tokens = await this.tokenCall(() => listTokens(this.baseUrl, this.token));
    if (tokens) this.tokens = tokens;
  }

  async createToken(role: TokenView['role'], label: string): Promise<void> {
    this.newSecret = null;
    const created = await this.tokenCall(() => createToken(this.baseUrl, this.token, role, label));
    if (!created) return;
    this.newSecret = { label: created.label, token: created.token };
    await this.loadTokens();
  }

  async revokeToken(id: string): Promise<void> {
    if (await this.tokenCall(() => revokeToken(this.baseUrl, this.token, id))) await this.loadTokens();
  }

  async versions(jobId: string): Promise<VersionView[] | null> {
    if (!this.socket) return null;
    const result = await ask(this.socket, 10_000, (s) => s.emitWithAck('job:versions', { jobId }));
    return result.ok ? result.data : null;
  }
}
