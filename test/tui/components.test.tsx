import { render } from 'ink-testing-library';
import React from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Confirm } from '../../src/components/Confirm.js';
import { maskSecret, SecretReveal } from '../../src/components/SecretReveal.js';
import { InputProvider } from '../../src/tui/input.js';
import { themeFor } from '../../src/tui/theme.js';

const theme = themeFor({ NO_COLOR: '1' });
const tick = () => new Promise((r) => setTimeout(r, 20));
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
    await tick();
    stdin.write('\r');
    await tick();
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onConfirm).not.toHaveBeenCalled();
    stdin.write('y');
    await tick();
    expect(onConfirm).toHaveBeenCalledTimes(1);
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
    await tick();
    stdin.write('r');
    await tick();
    expect(lastFrame()!.replace(/[│\s]+/g, '')).toContain(SECRET);
    stdin.write('r');
    await tick();
    expect(lastFrame()).not.toContain('bbbbbbbb');
    stdin.write('\r');
    await tick();
    expect(lastFrame()).toContain('Leave without copying or saving?');
    expect(onDone).not.toHaveBeenCalled();
    stdin.write('y');
    await tick();
    expect(onDone).toHaveBeenCalledTimes(1);
    unmount();
  });

  it('maskSecret keeps only the public id', () => {
    expect(maskSecret(SECRET)).toBe('rune_tok_AAAAAAAAAAAAAAAAAAAA_' + '•'.repeat(24));
    expect(maskSecret('something-else')).toBe('•'.repeat(24));
  });
});
