import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RequestMetrics } from './requestMetrics.js';
import type { Store } from './store/index.js';

/**
 * What /metrics exposes, in Prometheus text format. Labels are route templates, status codes and
 * failure reasons: bounded sets. No label ever names a token, a subject or a raw URL.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: RequestMetrics;
  private readonly authFailures: Counter<'reason'>;
  private readonly propagation: Histogram;

  constructor(store: Store) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters: Prometheus' own lint refuses them; the per-type gauges remain.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.requests = new RequestMetrics(this.registry);
    this.propagation = new Histogram({
      name: 'rune_change_propagation_seconds',
      help: 'From a write committed on another replica to this replica dropping its caches (PostgreSQL store).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.authFailures = new Counter({ name: 'rune_auth_failures_total', help: 'Failed authentications by reason.', labelNames: ['reason'], registers });
    new Gauge({
      name: 'rune_tokens',
      help: 'Tokens in the store by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        for (const [status, n] of Object.entries(await store.tokens.countByStatus(Date.now()))) this.set({ status }, n);
      },
    });
    const horizons = { '1d': 86_400_000, '7d': 7 * 86_400_000 };
    new Gauge({
      name: 'rune_tokens_expiring',
      help: 'Active tokens that expire within 1 day and within 7 days (the 7d count includes the 1d one).',
      labelNames: ['within'],
      registers,
      async collect() {
        const counts = await store.tokens.countExpiring(Date.now(), Object.values(horizons));
        Object.keys(horizons).forEach((within, i) => this.set({ within }, counts[i]!));
      },
    });
    new Gauge({
      name: 'rune_audit_chain_length',
      help: 'Events in the audit chain (the id of its newest event: events are never deleted).',
      registers,
      async collect() {
        this.set((await store.audit.head())?.id ?? 0);
      },
    });
  }

  /** Series are bounded like their labels: methods, route templates and statuses. */
  countRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe(method, route, status, seconds);
  }

  observePropagation(seconds: number): void {
    this.propagation.observe(seconds);
  }

  countAuthFailure(reason: string): void {
    this.authFailures.inc({ reason });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
