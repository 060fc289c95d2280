import type { Store } from './store/index.js';

/** Counters for /metrics, in Prometheus text format. Labels are route templates, never raw URLs. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly authFailures = new Map<string, number>();

  countRequest(method: string, route: string, status: number): void {
    const key = `method="${method}",route="${route}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  countAuthFailure(reason: string): void {
    this.authFailures.set(reason, (this.authFailures.get(reason) ?? 0) + 1);
  }

  render(store: Store, now = Date.now()): string {
    const lines: string[] = [];
    lines.push('# HELP rune_http_requests_total HTTP requests by method, route and status.', '# TYPE rune_http_requests_total counter');
    for (const [labels, n] of [...this.requests].sort()) lines.push(`rune_http_requests_total{${labels}} ${n}`);
    lines.push('# HELP rune_auth_failures_total Failed authentications by reason.', '# TYPE rune_auth_failures_total counter');
    for (const [reason, n] of [...this.authFailures].sort()) lines.push(`rune_auth_failures_total{reason="${reason}"} ${n}`);
    lines.push('# HELP rune_tokens Tokens in the store by status.', '# TYPE rune_tokens gauge');
    for (const [status, n] of Object.entries(store.tokens.countByStatus(now))) lines.push(`rune_tokens{status="${status}"} ${n}`);
    return lines.join('\n') + '\n';
  }
}
