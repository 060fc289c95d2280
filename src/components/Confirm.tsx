import { Box, Text } from 'ink';
import React, { useState } from 'react';
import { PRIORITY, useActions } from '../tui/input.js';
import type { Theme } from '../tui/theme.js';
import { TextFieldView, useTextField } from './TextField.js';

export interface ConfirmProps {
  message: string;
  action: string;
  /** When set (production contexts), the user must type this to confirm. */
  typeToConfirm?: string | undefined;
  /** Why typing is asked (default: a production context). */
  typeReason?: string | undefined;
  onConfirm: () => void;
  onCancel: () => void;
  theme: Theme;
}

/** A destructive action's confirmation: Cancel is focused; y/n answer at once (k9s style). */
export function Confirm({ message, action, typeToConfirm, typeReason = 'This is a production context.', onConfirm, onCancel, theme }: ConfirmProps) {
  const [focus, setFocus] = useState<'cancel' | 'confirm'>('cancel');
  const typed = useTextField('');
  const [mismatch, setMismatch] = useState<string | undefined>();
  useActions(
    PRIORITY.modal,
    typeToConfirm
      ? {
          // Typing the name: n and y are letters here; Esc still cancels.
          'form-cancel': () => onCancel(),
          'confirm-enter': () => {
            if (typed.current() === typeToConfirm) onConfirm();
            else setMismatch(typed.current());
          },
        }
      : {
          'confirm-yes': () => onConfirm(),
          'confirm-no': () => onCancel(),
          'confirm-choose': () => setFocus((f) => (f === 'cancel' ? 'confirm' : 'cancel')),
          'confirm-enter': () => (focus === 'confirm' ? onConfirm : onCancel)(),
        },
    {
      fallback: (name, _input, key) => {
        if (!typeToConfirm) return true;
        const edited = typed.onKey(name, key);
        if (edited && mismatch !== undefined) setMismatch(undefined);
        return edited || true;
      },
    },
  );
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.danger} paddingX={1}>
      <Text bold color={theme.danger}>
        {message}
      </Text>
      {typeToConfirm ? (
        <Box flexDirection="column">
          <Text>
            {typeReason} Type <Text bold>{typeToConfirm}</Text> and press Enter to {action}; Esc cancels.
          </Text>
          <Box>
            <Text>&gt; </Text>
            <TextFieldView state={typed.state} />
          </Box>
          {mismatch !== undefined ? (
            <Text color={theme.danger} wrap="wrap">
              "{mismatch}" does not match {typeToConfirm}: type it exactly (Esc cancels)
            </Text>
          ) : null}
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
