import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conform, makeProject, REPO } from '../helpers/conform-cli.ts';

describe('Ctrl-C during a run', () => {
  it('stops the launched backend, keeps the results already obtained and exits 130', async () => {
    const server = join(REPO, 'test', 'fixtures', 'servers', 'slow-server.mjs');
    const project = makeProject(['suites', 'golden'], {
      'conform.config.yaml': `backends: [{ name: slow, class: gpu, model: m, launch: { command: "${process.execPath}", args: ["${server}", "{port}", "400"] } }]\n`,
    });
    const child = conform(['run', '--suite', 'smoke'], { cwd: project });
    let journal = '';
    // Interrupt once two results are on disk.
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const { readdirSync } = await import('node:fs');
        const runs = readdirSync(join(project, 'reports'));
        journal = readFileSync(join(project, 'reports', runs[0]!, 'samples.jsonl'), 'utf8');
        if (journal.split('\n').filter((l) => l.includes('"type":"result"')).length >= 2) break;
      } catch {
        // not there yet
      }
    }
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(130);
    expect(result.stderr).toContain('Interrupted');
    const runDir = /Results: (\S+)/.exec(result.stdout)![1]!;
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.results.length).toBeGreaterThanOrEqual(2);
    expect(summary.results.length).toBeLessThan(13);
    expect(readFileSync(join(runDir, 'logs', 'slow.log'), 'utf8')).toContain('SIGTERM received');
  }, 60_000);
});

describe('conform killed with SIGKILL during a run', () => {
  it('leaves no conform serve behind: the engine notices its parent is gone and exits', async () => {
    const project = makeProject(['suites', 'golden']);
    const child = conform(['run', '--backend', 'cpu', '--suite', 'long-context'], { cwd: project });
    // Wait until the engine is up and answering: its log says so.
    let log = '';
    for (let i = 0; i < 600 && !log.includes('ready in'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const { readdirSync } = await import('node:fs');
        const runs = readdirSync(join(project, 'reports'));
        log = readFileSync(join(project, 'reports', runs[0]!, 'logs', 'cpu.log'), 'utf8');
      } catch {
        // not there yet
      }
    }
    expect(log).toContain('ready in');
    const enginePid = Number(/pid (\d+)/.exec(log)?.[1]);
    expect(enginePid).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await child;
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        process.kill(enginePid, 0);
      } catch {
        alive = false;
      }
    }
    expect(alive, `conform serve (pid ${enginePid}) outlived the run that launched it`).toBe(false);
  }, 120_000);
});
