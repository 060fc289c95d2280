import { describe, expect, it } from 'vitest';
import { FailureAudit } from '../../src/daemon/failureAudit.js';
import { addressBlock, FailureLimiter } from '../../src/daemon/limiter.js';

describe('addressBlock', () => {
  it.each([
    ['127.0.0.1', '127.0.0.0/24'],
    ['127.0.0.250', '127.0.0.0/24'],
    ['10.1.2.3', '10.1.2.0/24'],
    ['::ffff:192.168.7.9', '192.168.7.0/24'],
    ['::1', '0:0:0:0::/64'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8::', '2001:db8:0:0::/64'],
    ['unknown', 'unknown'],
  ])('%s counts under %s', (address, block) => {
    expect(addressBlock(address)).toBe(block);
  });
});

describe('FailureLimiter', () => {
  it('blocks a /24 at its limit until the window ends', () => {
    const limiter = new FailureLimiter(3, 60_000, 1000);
    for (let i = 1; i <= 3; i++) limiter.recordFailure(`10.0.0.${i}`, 0);
    expect(limiter.retryAfter('10.0.0.99', 1000)).toBe(59);
    expect(limiter.retryAfter('10.0.1.1', 1000)).toBe(0);
    expect(limiter.retryAfter('10.0.0.99', 60_000)).toBe(0);
  });

  it('a global ceiling blocks everyone for the rest of the second', () => {
    const limiter = new FailureLimiter(1000, 60_000, 5);
    for (let i = 1; i <= 5; i++) limiter.recordFailure(`10.${i}.0.1`, 100);
    expect(limiter.retryAfter('172.16.0.1', 200)).toBe(1);
    expect(limiter.retryAfter('172.16.0.1', 1100)).toBe(0);
  });

  it('tracks at most maxTracked blocks, however many networks fail', () => {
    const limiter = new FailureLimiter(10, 60_000, 1e9, 100);
    for (let i = 0; i < 5000; i++) limiter.recordFailure(`10.${i >> 8}.${i & 255}.1`, 0);
    expect(limiter.tracked).toBeLessThanOrEqual(100);
  });
});

describe('FailureAudit', () => {
  it('records the first failure of a kind in full and summarises the rest when the window ends', () => {
    const recorded: string[] = [];
    const audit = new FailureAudit((e) => recorded.push(e.message ?? ''), 1000);
    expect(audit.note('127.0.0.1', 'unknown', 0)).toBe(true);
    expect(audit.note('127.0.0.2', 'unknown', 10)).toBe(false);
    expect(audit.note('127.0.0.3', 'unknown', 20)).toBe(false);
    expect(audit.note('127.0.0.1', 'expired', 30)).toBe(true);
    audit.flush(500);
    expect(recorded).toEqual([]);
    audit.flush(1000);
    expect(recorded).toEqual([expect.stringMatching(/^unknown: 2 more from 127\.0\.0\.0\/24 since/)]);
    expect(audit.note('127.0.0.1', 'unknown', 1001)).toBe(true);
  });

  it('keeps at most maxTracked tallies, writing out the oldest', () => {
    const recorded: string[] = [];
    const audit = new FailureAudit((e) => recorded.push(e.message ?? ''), 60_000, 10);
    for (let i = 0; i < 50; i++) {
      audit.note(`10.0.${i}.1`, 'unknown', 0);
      audit.note(`10.0.${i}.1`, 'unknown', 0);
    }
    audit.flush(0, true);
    expect(recorded).toHaveLength(50);
  });
});
