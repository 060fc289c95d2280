import { Box, Text } from 'ink';
import TextInput from 'ink-text-input';
import React, { useState } from 'react';
import { matches } from '../tui/keymap.js';
import { PRIORITY, useKeys } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';

export interface ConfirmProps {
  message: string;
  action: string;
  /** When set (production contexts), the user must type this to confirm. */
  typeToConfirm?: string | undefined;
  onConfirm: () => void;
  onCancel: () => void;
  theme: Theme;
}

/** A destructive action's confirmation: Cancel is focused; y/n answer at once (k9s style). */
export function Confirm({ message, action, typeToConfirm, onConfirm, onCancel, theme }: ConfirmProps) {
  const [focus, setFocus] = useState<'cancel' | 'confirm'>('cancel');
  const [typed, setTyped] = useState('');
  useKeys(PRIORITY.modal, (name) => {
    if (matches('confirm-no', name) && !(typeToConfirm && name === 'n')) onCancel();
    else if (typeToConfirm) {
      if (name === 'enter' && typed === typeToConfirm) onConfirm();
    } else if (matches('confirm-yes', name)) onConfirm();
    else if (matches('confirm-choose', name)) setFocus((f) => (f === 'cancel' ? 'confirm' : 'cancel'));
    else if (name === 'enter') (focus === 'confirm' ? onConfirm : onCancel)();
    return true;
  });
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.danger} paddingX={1}>
      <Text bold color={theme.danger}>
        {message}
      </Text>
      {typeToConfirm ? (
        <Box flexDirection="column">
          <Text>
            This is a production context. Type <Text bold>{typeToConfirm}</Text> and press Enter to {action}; Esc cancels.
          </Text>
          <Box>
            <Text>&gt; </Text>
            <TextInput value={typed} onChange={setTyped} focus />
          </Box>
        </Box>
      ) : (
        <Box>
          <Text inverse={focus === 'cancel'}>{' Cancel '}</Text>
          <Text>  </Text>
          <Text inverse={focus === 'confirm'} color={focus === 'confirm' ? undefined : theme.danger}>{` ${action} `}</Text>
          <Text dimColor={theme.dim}>{'   y confirm · n/Esc cancel'}</Text>
        </Box>
      )}
    </Box>
  );
}
