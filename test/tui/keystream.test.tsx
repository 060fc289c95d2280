import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TextFieldView, useTextField } from '../../src/components/TextField.js';
import { ContextStore } from '../../src/config/contexts.js';
import { App } from '../../src/app/App.js';
import { InputProvider, PRIORITY, useKeys } from '../../src/tui/input.js';
import { KEYS, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

/**
 * Keys as terminals deliver them over SSH and tmux: several in one read. Each case here was
 * broken when Ink's useInput and ink-text-input handled the input (issue 12, cases 1–7).
 */
let runed: Runed;
let root: string;
let dir: string;

beforeAll(async () => {
  runed = await Runed.start();
  root = await runed.bootstrap();
  dir = mkdtempSync(join(tmpdir(), 'rune-keys-'));
});
afterAll(async () => runed.cleanup());

function store(names = ['local']): ContextStore {
  const s = new ContextStore(join(mkdtempSync(join(dir, 'cfg-')), 'config.yaml'));
  for (const n of names) s.set(n, { server: runed.url, token: root, namespace: 'default' });
  s.use(names[0]!);
  return s;
}

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});
const open = async (s = store(), extra: { readOnly?: boolean } = {}) => {
  app = renderTui(<App store={s} env={{}} readOnly={extra.readOnly ?? false} />);
  await app.waitFor('as:root');
  return app;
};

describe('case 1: a command in one read', () => {
  it('":pol\\r" from a list opens Policies', async () => {
    const t = await open();
    await t.waitFor('3:Tokens');
    await t.write(':pol\r');
    await t.waitFor('4:Policies');
    expect(t.frame()).not.toContain('no match');
  });

  it('":", "p", "o", "l" in separate reads before any render, then Enter', async () => {
    const t = await open();
    await t.waitFor('3:Tokens');
    await t.write(':', 'p', 'o', 'l', '\r');
    await t.waitFor('4:Policies');
  });

  it('with the prompt already open, "pol\\r" runs it with one Enter', async () => {
    const t = await open();
    await t.press(':');
    await t.waitFor('ctx  context');
    await t.write('pol\r');
    await t.waitFor('4:Policies');
  });

  it('a pasted command runs once Enter is pressed', async () => {
    const t = await open();
    await t.press(':');
    await t.paste('users');
    await t.waitFor(':users');
    await t.write('\r');
    await t.waitFor('2:Users');
  });
});

describe('case 2: the filter in one read', () => {
  it('"/readw\\r" filters the policies to the one matching "readw"', async () => {
    const t = await open();
    await t.write('4');
    await t.waitFor((f) => f.includes('4:Policies') && f.includes('readonly'));
    await t.write('/readw\r');
    const f = await t.waitFor((frame) => frame.includes('/readw') && frame.includes('(Esc clears)'));
    expect(f).toContain('readwrite');
    expect(f).not.toContain('readonly');
  });
});

describe('case 3: forms take text plus Enter or Tab in one read', () => {
  it('"n" + "fast-bot\\r" in one write creates the token named fast-bot', async () => {
    const t = await open();
    await t.waitFor('3:Tokens');
    await t.write('nfast-bot\r');
    const f = await t.waitFor('shown once');
    expect(f).toContain('Token fast-bot');
    await t.write('\r');
    await t.waitFor('Leave without copying or saving?');
    await t.write('y');
    await t.waitFor('secret dismissed');
  });

  it('users form: "dave", Down, "dave@x.io", Enter in one read: the email lands in Email', async () => {
    const t = await open();
    await t.write('2');
    await t.waitFor('2:Users');
    await t.write('n');
    await t.waitFor('Create or update a user');
    await t.write('dave\x1b[Bdave@x.io\r');
    await t.waitFor('user dave saved');
    const user = await runed.request('GET', '/v1/users/dave', { token: root });
    expect(user.body).toMatchObject({ name: 'dave', email: 'dave@x.io' });
  });

  it('Tab moves between fields inside one read, and no TAB or CR is inserted', async () => {
    const t = await open();
    await t.waitFor('3:Tokens');
    // Name, Subject, Policies, TTL (a choice), Description.
    await t.write('n', 'tabbed\t\t\t\tonly a description\r');
    await t.waitFor('shown once');
    const list = await runed.request('GET', '/v1/tokens?limit=500', { token: root });
    const made = list.body.items.find((x: { name: string }) => x.name === 'tabbed');
    expect(made).toMatchObject({ name: 'tabbed', description: 'only a description' });
  });

  it('the wizard\'s name step: "ci-fast\\r" in one read moves on (no invisible CR in the name)', async () => {
    const t = await open();
    await t.write('5');
    await t.waitFor('5:Service accounts');
    await t.write('nci-fast\r');
    await t.waitFor('step 2 of 6: Namespace');
    await t.write('\r\r\rwizard made it\r');
    const review = await t.waitFor('step 6 of 6: Review');
    expect(review).toContain('ci-fast · cluster-wide · cast · TTL 90d · "wizard made it"');
  });

  it('the "Save to:" field takes a path and Enter in one read', async () => {
    const t = await open();
    await t.write('nsaved-bot\r');
    await t.waitFor('shown once');
    const file = join(dir, 'saved-bot.token');
    await t.write(`w${file}\r`);
    await t.waitFor('mode 0600');
  });
});

describe('case 4: several Backspaces in one read delete, never insert DEL', () => {
  it('in a form field', async () => {
    const t = await open();
    await t.write('n');
    await t.waitFor('Create a token');
    await t.write('abcdef');
    await t.waitFor('abcdef');
    await t.erase(3);
    await t.waitFor((f) => /Name\s+abc(?!d)/.test(f));
    expect(t.frame()).not.toContain('\x7f');
  });

  it('in the YAML editor', async () => {
    const t = await open();
    await t.write('4');
    await t.waitFor('4:Policies');
    await t.write('n');
    await t.waitFor('New policy');
    await t.write('\x1b[F', 'XYZ');
    await t.waitFor('name: new-policyXYZ');
    await t.write('\x7f\x7f\x7f');
    await t.waitFor((f) => f.includes('name: new-policy') && !f.includes('XYZ') && !f.includes('[modified]'));
  });
});

describe('case 5: keys typed right after the key that opens an input', () => {
  it('on Contexts, ":tok\\r" goes to Tokens and does not run the list\'s Enter (switch context)', async () => {
    const s = store(['local', 'other']);
    app = renderTui(<App store={s} env={{}} initialScreen="contexts" />);
    const t = app;
    await t.waitFor('1:Contexts');
    await t.write('j:tok\r');
    await t.waitFor('3:Tokens');
    expect(s.current()).toBe('local');
    expect(t.frame()).not.toContain('switched to context');
  });
});

describe('case 6: text mixed with cursor keys, and repeated list keys, in one read', () => {
  it('"abc" Left "X" gives "abXc" in the prompt', async () => {
    const t = await open();
    await t.write(':abc\x1b[DX');
    await t.waitFor(':abXc');
  });

  it('Home, ctrl-e, ctrl-w, ctrl-u, ctrl-k and Delete in one read', async () => {
    const t = await open();
    await t.write(':one two\x1b[Hzero \x05\x17three\x01\x1b[3~\r');
    // "zero one two" → ctrl-w drops "two" → "zero one three" → Home, Delete drops "z".
    await t.waitFor('unknown command "ero"');
    await t.write(':keep this\x01\x0b');
    await t.waitFor((f) => /^:\s*$/m.test(f.replace(/\s+$/gm, '')));
    await t.write('gone\x15');
    await t.write('kept\r');
    await t.waitFor('unknown command "kept"');
  });

  it('"jjj" moves the selection three rows, "kk" two back: Enter opens the second row', async () => {
    const t = await open();
    await t.write('4');
    await t.waitFor((f) => f.includes('4:Policies') && f.includes('readwrite'));
    await t.write('jjj');
    await t.write('kk');
    await t.write('\r');
    // admin, cast, readonly, readwrite, root: down three and up two is cast.
    await t.waitFor('Clone of cast');
  });

  it('Tab Tab Tab in one read moves three screens', async () => {
    const t = await open();
    await t.waitFor('3:Tokens');
    await t.write('\t\t\t');
    await t.waitFor('6:Registries');
  });
});

describe('case 7: typing versus paste in the editor', () => {
  it('typed Enter and text in one read keep the auto-indent', async () => {
    const t = await open();
    await t.write('4');
    await t.waitFor('4:Policies');
    await t.write('n');
    await t.waitFor('New policy');
    // Line 3 is "rules:": End, Enter, then a key, all in one read.
    await t.write('\x1b[B\x1b[B\x1b[F\rX');
    await t.waitFor((f) => /^4[ ✗!] {2}X/m.test(f));
  });

  it('a bracketed paste of a multi-line policy goes in exactly as pasted, and saves', async () => {
    const t = await open();
    await t.write('4');
    await t.waitFor('4:Policies');
    await t.write('n');
    await t.waitFor('New policy');
    // Clear the template: ctrl-k on every line, then Backspace to join them.
    await t.write('\x1b[B'.repeat(10) + '\x1b[F' + '\x7f'.repeat(200));
    await t.waitFor((f) => /^1 /m.test(f) && !/^2 /m.test(f) && !f.includes('name:'));
    const policy = ['name: pasted-policy', 'description: "came in one paste"', 'rules:', '  - resource: services', '    verbs: [get, list]', '    namespace: dev', '  - resource: users', '    verbs: [list]', ''].join('\n');
    await t.paste(policy);
    await t.waitFor((f) => f.includes('8     verbs: [list]'));
    const frame = t.frame();
    // Every line at its pasted indentation, nothing doubled.
    expect(frame).toMatch(/^4 {3}- resource: services/m);
    expect(frame).toMatch(/^5 {5}verbs: \[get, list\]/m);
    expect(frame).toMatch(/^7[ ✗!] {2}- resource: users/m);
    expect(frame.match(/resource: users/g)).toHaveLength(1);
    await t.write('\x13');
    await t.waitFor('changes to save');
    await t.write('y');
    await t.waitFor('policy pasted-policy saved');
    const saved = await runed.request('GET', '/v1/policies/pasted-policy', { token: root });
    expect(saved.body.rules).toEqual([
      { resource: 'services', verbs: ['get', 'list'], namespace: 'dev' },
      { resource: 'users', verbs: ['list'] },
    ]);
  });

  it('a paste fires no key bindings: ":q" pasted into a list does not quit, "jjj" pasted does not move', async () => {
    const t = await open();
    await t.write('4');
    await t.waitFor('4:Policies');
    const before = t.frame();
    await t.paste(':qjjj');
    await t.write('2');
    await t.waitFor('2:Users');
    expect(before).toContain('4:Policies');
  });
});

describe('a burst into a field', () => {
  function Probe({ onValue }: { onValue: (v: string) => void }) {
    const field = useTextField('');
    useKeys(PRIORITY.form, (name, _input, key) => field.onKey(name, key) || true);
    onValue(field.value);
    return <TextFieldView state={field.state} />;
  }

  it('2,000 characters in 40-character reads, back to back: every one lands, in order', async () => {
    let value = '';
    const t = renderTui(
      <InputProvider>
        <Probe onValue={(v) => (value = v)} />
      </InputProvider>,
      { columns: 100, rows: 30 },
    );
    app = t;
    const text = Array.from({ length: 2000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('');
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 40) chunks.push(text.slice(i, i + 40));
    await t.write(...chunks);
    await t.waitFor(() => value.length >= 2000);
    expect(value).toBe(text);
  });
});

describe('ctrl-c', () => {
  it('quits from inside a form (it is a keymap entry above every layer)', async () => {
    const t = await open();
    await t.write('nhalf-typed');
    await t.waitFor('half-typed');
    await t.write('\x03');
    await t.waitUntilExit();
  });
});

describe('read-only contexts', () => {
  it('mutating keys answer "read-only context" instead of doing nothing', async () => {
    const t = await open(store(), { readOnly: true });
    await t.waitFor('READ-ONLY');
    await t.write('n');
    await t.waitFor('read-only context');
    expect(t.frame()).not.toContain('Create a token');
    await t.write('2');
    await t.waitFor((f) => f.includes('2:Users') && f.includes('root'));
    await t.write('d');
    await t.waitFor('read-only context: delete the user is not available');
  });

  it('the editor opens for reading only: no ctrl-s in its hints, typing is refused', async () => {
    const t = await open(store(), { readOnly: true });
    await t.write('4');
    await t.waitFor((f) => f.includes('4:Policies') && f.includes('readonly'));
    await t.write('\r');
    const editor = await t.waitFor('[read-only]');
    expect(editor).not.toContain('ctrl-s save');
    await t.write('x');
    await t.waitFor('read-only context');
    expect(t.frame()).not.toContain('[modified]');
    await t.write('\x13');
    const refused = await t.waitFor('read-only context: save is not available');
    expect(refused).not.toContain('changes to save');
  });
});

describe('the copy leaves the leave question in place', () => {
  it('after c, Enter still asks whether the copy arrived', async () => {
    const t = await open();
    await t.write('ncopy-bot\r');
    await t.waitFor('shown once');
    await t.write('c');
    await t.waitFor('Sent to the terminal clipboard');
    await t.write('\r');
    await t.waitFor('Did the copy arrive');
    await t.write('n');
    await t.waitFor((f) => !f.includes('Did the copy arrive'));
    await t.write('\ry');
    await t.waitFor('secret dismissed');
    expect(t.sideWrites().some((w) => w.startsWith('\x1b]52;c;'))).toBe(true);
  });
});

export { KEYS };
