import { Text } from 'ink';
import React, { useState } from 'react';
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
export function useStatus(after: () => void = () => {}) {
  const [status, setStatus] = useState<Status | undefined>();
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
