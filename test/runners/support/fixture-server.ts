// Starts one of test/fixtures/servers/*.mjs as its own process on a free loopback port.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { REPO } from '../../helpers/conform-cli.ts';

export interface FixtureServer {
  /** `http://127.0.0.1:PORT/v1`. */
  baseUrl: string;
  origin: string;
  stop(): Promise<void>;
}

/** Runs `test/fixtures/servers/<name>` with port 0 and the given arguments; resolves once it listens. */
export async function startFixtureServer(name: string, args: string[] = []): Promise<FixtureServer> {
  const child = spawn(process.execPath, [join(REPO, 'test', 'fixtures', 'servers', name), '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    baseUrl: `${origin}/v1`,
    origin,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
