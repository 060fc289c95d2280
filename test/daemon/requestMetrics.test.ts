import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, RequestMetrics } from '../../src/daemon/requestMetrics.js';

/** The exposition's lines, sorted: series may come in another order, never with other values. */
const lines = async (registry: Registry) => (await registry.metrics()).split('\n').filter(Boolean).sort();

describe('RequestMetrics', () => {
  it('renders exactly what prom-client\'s own Counter and Histogram render for the same requests', async () => {
    const ours = new Registry();
    const metrics = new RequestMetrics(ours);
    const reference = new Registry();
    const counter = new Counter({ name: 'rune_http_requests_total', help: 'HTTP requests by method, route template and status.', labelNames: ['method', 'route', 'status'], registers: [reference] });
    const histogram = new Histogram({
      name: 'rune_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route template and status class.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: DURATION_BUCKETS,
      registers: [reference],
    });
    // Durations on, between, below and above the bounds; statuses of one class counted apart, timed together.
    const durations = [0, 0.0005, 0.0007, 0.001, 0.003, 0.05, 0.0500001, 2.5, 2.6, 30];
    const requests: [string, string, number][] = [
      ['GET', '/v1/tokens', 200],
      ['GET', '/v1/tokens', 304],
      ['POST', '/v1/tokens', 201],
      ['POST', '/v1/tokens', 200],
      ['GET', '/v1/users/:name', 404],
      ['GET', '/v1/users/:name', 403],
      ['DELETE', 'unmatched', 503],
    ];
    requests.forEach(([method, route, status], i) => {
      for (const seconds of durations.slice(i % 3)) {
        metrics.observe(method, route, status, seconds);
        counter.inc({ method, route, status: String(status) });
        histogram.observe({ method, route, status_class: `${Math.floor(status / 100)}xx` }, seconds);
      }
    });
    const expected = await lines(reference);
    expect(expected.length).toBeGreaterThan(40);
    expect(await lines(ours)).toEqual(expected);
  });

  it('renders no series before the first request, and the metric\'s HELP and TYPE still', async () => {
    const registry = new Registry();
    new RequestMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE rune_http_requests_total counter');
    expect(text).toContain('# TYPE rune_http_request_duration_seconds histogram');
    expect(text).not.toMatch(/^rune_http/m);
  });

  it('is emptied by registry.resetMetrics(), as prom-client\'s own metrics are, and counts again afterwards', async () => {
    const registry = new Registry();
    const metrics = new RequestMetrics(registry);
    metrics.observe('GET', '/v1/tokens', 200, 0.002);
    expect(await registry.metrics()).toMatch(/^rune_http_requests_total\{method="GET",route="\/v1\/tokens",status="200"\} 1$/m);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toMatch(/^rune_http/m);
    metrics.observe('GET', '/v1/tokens', 200, 0.002);
    expect(await registry.metrics()).toMatch(/^rune_http_requests_total\{method="GET",route="\/v1\/tokens",status="200"\} 1$/m);
  });
});
