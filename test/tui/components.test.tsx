import { render } from 'ink-testing-library';
import React from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Confirm } from '../../src/components/Confirm.js';
import { maskSecret, SecretReveal } from '../../src/components/SecretReveal.js';
import { InputProvider } from '../../src/tui/input.js';
import { themeFor } from '../../src/tui/theme.js';

const theme = themeFor({ NO_COLOR: '1' });
const tick = () => new Promise((r) => setTimeout(r, 20));
/** Polls until `check` holds (a frame change or a callback seen), never a fixed sleep for the result. */
async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
const SECRET = 'rune_tok_AAAAAAAAAAAAAAAAAAAA_' + 'b'.repeat(43) + 'CCCCCC';

describe('components (ink-testing-library, 100 columns)', () => {
  it('Confirm: Cancel is focused, Enter cancels, y confirms', async () => {
    const onConfirm = vi.fn();
    const onCancel = vi.fn();
    const { lastFrame, stdin, unmount } = render(
      <InputProvider>
        <Confirm message="Revoke token x?" action="Revoke" onConfirm={onConfirm} onCancel={onCancel} theme={theme} />
      </InputProvider>,
    );
    expect(lastFrame()).toContain('Revoke token x?');
    await tick(); // ink-testing-library drops keys written before the app subscribes
    stdin.write('\r');
    await until(() => onCancel.mock.calls.length === 1);
    expect(onConfirm).not.toHaveBeenCalled();
    stdin.write('y');
    await until(() => onConfirm.mock.calls.length === 1);
    unmount();
  });

  it('SecretReveal: masked by default, r reveals and hides, leaving unsaved asks first', async () => {
    const onDone = vi.fn();
    const { lastFrame, stdin, unmount } = render(
      <InputProvider>
        <SecretReveal title="Token x" secret={SECRET} suggestedFile="x.token" onDone={onDone} theme={theme} />
      </InputProvider>,
    );
    expect(lastFrame()).toContain(maskSecret(SECRET));
    expect(lastFrame()).not.toContain('bbbbbbbb');
    await tick(); // ink-testing-library drops keys written before the app subscribes
    stdin.write('r');
    await until(() => lastFrame()!.replace(/[│\s]+/g, '').includes(SECRET));
    stdin.write('r');
    await until(() => !lastFrame()!.includes('bbbbbbbb'));
    stdin.write('\r');
    await until(() => lastFrame()!.includes('Leave without copying or saving?'));
    expect(onDone).not.toHaveBeenCalled();
    stdin.write('y');
    await until(() => onDone.mock.calls.length === 1);
    unmount();
  });

  it('maskSecret keeps only the public id', () => {
    expect(maskSecret(SECRET)).toBe('rune_tok_AAAAAAAAAAAAAAAAAAAA_' + '•'.repeat(24));
    expect(maskSecret('something-else')).toBe('•'.repeat(24));
  });
});
