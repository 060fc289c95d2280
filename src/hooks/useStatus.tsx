import { Text } from 'ink';
import React, { useEffect, useState } from 'react';
import { describeError } from '../format/errors.js';
import type { Theme } from '../tui/theme.js';

export interface Status {
  text: string;
  error?: boolean;
}

/**
 * A screen's one-line outcome of its last action. `ok` and `fail` also run `after` (back to the
 * list, reload it), so an action's two endings read the same on every screen.
 */
/** How long a screen's outcome line stays (it also goes with the screen's next action). */
export const STATUS_MS = 5000;

export function useStatus(after: () => void = () => {}) {
  const [status, setStatus] = useState<Status | undefined>();
  useEffect(() => {
    if (!status) return;
    const timer = setTimeout(() => setStatus(undefined), Number(process.env.RUNE_NOTICE_MS) || STATUS_MS);
    return () => clearTimeout(timer);
  }, [status]);
  return {
    status,
    note: (text: string, error = false) => setStatus(error ? { text, error } : { text }),
    ok: (text: string) => {
      setStatus({ text });
      after();
    },
    fail: (e: unknown) => {
      setStatus({ text: describeError(e), error: true });
      after();
    },
  };
}

export function StatusLine({ status, theme }: { status: Status | undefined; theme: Theme }) {
  return status ? (
    <Text color={status.error ? theme.danger : theme.ok} wrap="truncate">
      {status.text}
    </Text>
  ) : null;
}
