// Proves the test environment that `bash scripts/setup` creates (docs/development.md):
// the project-owned containerd answers, the local registry serves the test images, and a
// container from them runs through the real pull path. Other suites build on exactly this.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

const socket = process.env['TETHER_CRI_SOCKET'] ?? '/run/tether-test/containerd/containerd.sock';
const registry = 'http://127.0.0.1:5000';
const shellImage = 'localhost:5000/tether/shell:1';
// ctr (unlike the CRI) does not read the runc options from the config: give it the same
// runc root so nothing lands in a system containerd's /run/containerd/runc.
const runcRoot = '/run/tether-test/runc';
const namespace = 'tether-envtest';

const manifestTypes = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

async function ctr(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('ctr', ['--address', socket, '--connect-timeout', '5s', ...args], {
    timeout: 50_000,
  });
}

interface Manifest {
  mediaType?: string;
  config: { digest: string };
  layers: { digest: string; size: number }[];
}

interface ImageConfig {
  architecture: string;
  os: string;
  config: { Cmd?: string[]; Entrypoint?: string[]; Env?: string[] };
}

async function manifestOf(repo: string, tag: string): Promise<{ type: string; body: Manifest }> {
  const res = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: manifestTypes.join(', ') },
  });
  expect(res.status, `${repo}:${tag} manifest`).toBe(200);
  return {
    type: res.headers.get('content-type') ?? '',
    body: (await res.json()) as Manifest,
  };
}

async function configOf(repo: string, manifest: Manifest): Promise<ImageConfig> {
  const res = await fetch(`${registry}/v2/${repo}/blobs/${manifest.config.digest}`);
  expect(res.status).toBe(200);
  return (await res.json()) as ImageConfig;
}

describe('environment', () => {
  it('environment — the test containerd answers on its own socket', async () => {
    const { stdout } = await ctr('version');
    // Both halves: the client printed its own version and the server answered with Debian's 1.6.
    expect(stdout).toMatch(/Server:\s*\n\s*Version:\s+1\.6\./);
    expect(socket).not.toBe('/run/containerd/containerd.sock');
  });

  it('environment — the registry serves the shell and pause images', async () => {
    const shell = await manifestOf('tether/shell', '1');
    const pause = await manifestOf('tether/pause', '1');
    for (const m of [shell, pause]) {
      expect(manifestTypes).toContain(m.type);
      expect(m.body.layers.length).toBeGreaterThan(0);
    }
    // One layer with busybox and its applet links; the two images differ only in config.
    expect(pause.body.layers).toEqual(shell.body.layers);

    const shellConfig = await configOf('tether/shell', shell.body);
    expect(shellConfig.os).toBe('linux');
    expect(shellConfig.config.Cmd).toEqual(['sh']);
    expect(shellConfig.config.Env).toContain('PATH=/bin');

    // The CRI sandbox image (sandbox_image in /etc/tether-test/containerd.toml).
    const pauseConfig = await configOf('tether/pause', pause.body);
    expect(pauseConfig.config.Entrypoint).toEqual(['sleep', 'infinity']);
  });

  describe('a container from the shell image', () => {
    const id = `envtest-${randomBytes(4).toString('hex')}`;

    afterAll(async () => {
      // Whatever the test reached: no task, no container, no image, no namespace left.
      await ctr('-n', namespace, 'tasks', 'kill', '-s', 'SIGKILL', id).catch(() => undefined);
      await ctr('-n', namespace, 'tasks', 'delete', '-f', id).catch(() => undefined);
      await ctr('-n', namespace, 'containers', 'delete', id).catch(() => undefined);
      await ctr('-n', namespace, 'images', 'remove', '--sync', shellImage).catch(() => undefined);
      await ctr('namespaces', 'remove', namespace).catch(() => undefined);
    });

    it('environment — pulls over plain HTTP and runs to completion with ctr', async () => {
      await ctr('-n', namespace, 'images', 'pull', '--plain-http', shellImage);
      const { stdout: images } = await ctr('-n', namespace, 'images', 'list', '-q');
      expect(images.split('\n')).toContain(shellImage);

      const { stdout } = await ctr(
        '-n',
        namespace,
        'run',
        '--rm',
        '--runc-root',
        runcRoot,
        shellImage,
        id,
        'sh',
        '-c',
        'echo hi; echo "$PATH"',
      );
      expect(stdout.split('\n')).toEqual(['hi', '/bin', '']);

      // --rm removed the container once the task exited.
      const { stdout: containers } = await ctr('-n', namespace, 'containers', 'list', '-q');
      expect(containers.split('\n')).not.toContain(id);
    });
  });
});
