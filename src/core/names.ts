import { invalid, shown } from './errors.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` is not a DNS-1123 label (lowercase letters, digits, '-', at most 63), or undefined. */
export function dnsLabelProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 63) return 'must be at most 63 characters';
  if (!DNS1123_LABEL.test(name)) {
    return 'must consist of lowercase letters, digits and "-", and start and end with a letter or digit';
  }
  return undefined;
}

export function requireDnsLabel(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(`${field} is required and must be a string`, { field });
  const problem = dnsLabelProblem(value);
  if (problem) throw invalid(`${field} "${shown(value)}" is invalid: ${problem}`, { field });
  return value;
}

/** Smallest number of single-character edits between two short strings (for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

export function suggest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const lower = word.toLowerCase();
  for (const candidate of known) {
    // The distance is at least the difference in length: a long word is never compared in full.
    if (Math.abs(lower.length - candidate.length) >= bestDistance) continue;
    const d = editDistance(lower, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
