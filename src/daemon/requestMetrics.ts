import type { Metric, Registry } from 'prom-client';

/** Upper bounds of the request duration histogram, in seconds. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** One (method, route, status): how many requests, and their durations bucket by bucket (the last slot is above every bound). */
interface Series {
  method: string;
  route: string;
  status: number;
  count: number;
  sum: number;
  buckets: number[];
}

/** A value as prom-client's registry renders it: `labels` first, then `sharedLabels`. */
interface Value {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

/**
 * `rune_http_requests_total{method,route,status}` and
 * `rune_http_request_duration_seconds{method,route,status_class}`, counted with plain arithmetic on
 * the request path and shaped into Prometheus values only when /metrics is read. prom-client's own
 * Counter and Histogram hash their label objects on every observation, about 2 µs a request, which
 * showed in the profile of a cached list; the text is still rendered by prom-client's registry.
 */
export class RequestMetrics {
  /** route → method → status: the strings come from the router and the parser, so their hashes are cached. */
  private readonly series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(registry: Registry) {
    const counter = {
      name: 'rune_http_requests_total',
      help: 'HTTP requests by method, route template and status.',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ name: counter.name, help: counter.help, type: counter.type, aggregator: counter.aggregator, values: this.counts() }),
      // registry.resetMetrics() calls this on every metric it holds.
      reset: () => this.series.clear(),
    };
    const histogram = {
      name: 'rune_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route template and status class.',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name: histogram.name, help: histogram.help, type: histogram.type, aggregator: histogram.aggregator, values: this.durations(histogram.name) }),
      reset: () => this.series.clear(),
    };
    registry.registerMetric(counter as unknown as Metric);
    registry.registerMetric(histogram as unknown as Metric);
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.series.get(route);
    if (!byMethod) this.series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = { method, route, status, count: 0, sum: 0, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0) }));
    series.count++;
    series.sum += seconds;
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]!) b++;
    series.buckets[b]!++;
  }

  private *all(): Generator<Series> {
    for (const byMethod of this.series.values()) for (const byStatus of byMethod.values()) yield* byStatus.values();
  }

  private counts(): Value[] {
    return [...this.all()].map((s) => ({ value: s.count, labels: { method: s.method, route: s.route, status: String(s.status) } }));
  }

  /** Series of one status class are added up; buckets are cumulative, as Prometheus reads them. */
  private durations(name: string): Value[] {
    const classes = new Map<string, { labels: Record<string, string>; count: number; sum: number; buckets: number[] }>();
    for (const s of this.all()) {
      const labels = { method: s.method, route: s.route, status_class: `${Math.floor(s.status / 100)}xx` };
      const key = `${labels.method} ${labels.status_class} ${labels.route}`;
      let c = classes.get(key);
      if (!c) classes.set(key, (c = { labels, count: 0, sum: 0, buckets: new Array<number>(s.buckets.length).fill(0) }));
      c.count += s.count;
      c.sum += s.sum;
      s.buckets.forEach((n, i) => (c.buckets[i]! += n));
    }
    const values: Value[] = [];
    for (const c of classes.values()) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += c.buckets[i]!;
        values.push({ value: cumulative, labels: { le }, sharedLabels: c.labels, metricName: `${name}_bucket` });
      });
      values.push({ value: c.count, labels: { le: '+Inf' }, sharedLabels: c.labels, metricName: `${name}_bucket` });
      values.push({ value: c.sum, labels: {}, sharedLabels: c.labels, metricName: `${name}_sum` });
      values.push({ value: c.count, labels: {}, sharedLabels: c.labels, metricName: `${name}_count` });
    }
    return values;
  }
}
