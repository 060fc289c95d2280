import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Where sshd is, or why there is none (the SSH test is skipped with that reason). */
export function findSshd(): { path: string } | { missing: string } {
  for (const p of ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd']) if (existsSync(p)) return { path: p };
  const which = spawnSync('sh', ['-c', 'command -v sshd'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return { path: which.stdout.trim() };
  return { missing: 'sshd not found: apt-get install -y openssh-server (.ci/run installs it)' };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A private sshd on a free loopback port: its own config and host key, key-based login only, for
 * the current user with a key generated here. Nothing of the machine's ssh setup is used.
 */
export class Sshd {
  readonly user = userInfo().username;
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly proc: ChildProcess,
  ) {}

  static async start(sshdPath: string): Promise<Sshd> {
    const dir = mkdtempSync(join(tmpdir(), 'rune-sshd-'));
    const port = await freePort();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'PrintLastLog no',
        '',
      ].join('\n'),
    );
    // sshd insists on its privilege-separation directory when started as root.
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const proc = spawn(sshdPath, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout!.on('data', (d) => (log += d));
    proc.stderr!.on('data', (d) => (log += d));
    const deadline = Date.now() + 10_000;
    while (!/Server listening on 127\.0\.0\.1/.test(log)) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill();
        throw new Error(`sshd did not start:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return new Sshd(dir, port, proc);
  }

  /** The ssh command line that logs in with the generated key and runs `command` on a pty. */
  sshCommand(command: string): string {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    return [
      'ssh', '-t', '-p', String(this.port), '-i', join(this.dir, 'client_key'),
      '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-F', '/dev/null',
      `${this.user}@127.0.0.1`, q(command),
    ].join(' ');
  }

  stop(): void {
    this.proc.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
