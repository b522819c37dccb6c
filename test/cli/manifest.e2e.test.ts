import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/types.ts';
import type { PlanHistory } from '../../src/manifest/history.ts';
import type { Drift, ReleaseManifest, WeightPrecision } from '../../src/manifest/types.ts';
import { conform, makeProject } from '../helpers/conform-cli.ts';
import { syntheticHistory } from '../manifest/promote-history.ts';

const json = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const runDirOf = (stdout: string) => /Results: (\S+)/.exec(stdout)?.[1];

/** A manifest with just what update reads: the backends, one of them a variant with its launch args. */
function minimalManifest(runId: string): ReleaseManifest {
  const entry = (name: string) => ({ name, kernelPlan: { launchArgs: ['serve', '--gpu', 'cpu', ...(name.includes('@') ? ['--batch-size', '128'] : [])] } });
  return { schemaVersion: 1, release: 'v1.0.0', runId, backends: [entry('cpu'), entry('cpu@fast'), entry('cpu@lucky')] } as unknown as ReleaseManifest;
}

describe('conform manifest update --stable 3, on a synthetic plan history', () => {
  it('promotes the variant that won three runs in a row and says why; one that won twice is not promoted', async () => {
    const project = makeProject([]);
    const file = join(project, 'manifests', 'v1.0.0', 'manifest.json');
    mkdirSync(join(project, 'manifests', 'v1.0.0'), { recursive: true });
    writeFileSync(join(project, 'manifests', 'history.json'), JSON.stringify(syntheticHistory()));
    writeFileSync(file, JSON.stringify(minimalManifest('20261204T000000Z-000003')));
    const promoted = await conform(['manifest', 'update', '--stable', '3', '--release', 'v1.0.0'], { cwd: project });
    expect(promoted.exitCode, promoted.stderr).toBe(0);
    expect(promoted.stdout).toMatch(/^cpu: cpu@fast promoted over cpu: passed every suite and beat it on TTFT in each of the last 3 runs/m);
    expect(promoted.stdout).toContain('cpu@broken in run 20261203T000000Z-000002: did not pass every suite (smoke 1 failed, 0 errors)');
    expect(promoted.stdout).toMatch(/wrote manifests\/v1\.0\.0\/manifest\.json with 1 new recommended plan; sign it again/);
    const manifest = json<ReleaseManifest>(file);
    expect(manifest.backends[0]!.recommendedPlan).toMatchObject({ variant: 'fast', since: '20261204T000000Z-000003', metric: 'ttft-p50', launchArgs: ['serve', '--gpu', 'cpu', '--batch-size', '128'] });

    // Without fast and broken, lucky has won only the newest two of three runs.
    const history = syntheticHistory();
    for (const run of history.runs) for (const name of ['cpu@fast', 'cpu@broken']) delete run.plans[name];
    writeFileSync(join(project, 'manifests', 'history.json'), JSON.stringify(history));
    writeFileSync(file, JSON.stringify(minimalManifest('20261204T000000Z-000003')));
    const kept = await conform(['manifest', 'update', '--stable', '3', '--release', 'v1.0.0'], { cwd: project });
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(kept.stdout).toContain('cpu: cpu stays; no variant won all of the last 3 runs (best: cpu@lucky, 2 of 3)');
    expect(kept.stdout).toContain('no plan changes');
    expect(json<ReleaseManifest>(file).backends[0]!.recommendedPlan).toBeUndefined();
  });

  it('names what is missing or wrong in one line', async () => {
    const project = makeProject([]);
    const noStable = await conform(['manifest', 'update', '--release', 'v1'], { cwd: project });
    expect([noStable.exitCode, noStable.stderr.trim()]).toEqual([2, 'conform manifest: --stable N is required: the runs in a row a variant must win, for example --stable 3']);
    const noManifest = await conform(['manifest', 'update', '--stable', '3', '--release', 'v1'], { cwd: project });
    expect([noManifest.exitCode, noManifest.stderr.trim()]).toEqual([2, 'conform manifest: manifests/v1/manifest.json: no such file (write one with "conform manifest")']);
  });
});

describe('conform keygen, manifest sign and manifest verify', () => {
  it('verifies an untouched manifest and exits 1, saying which, on each tampering', async () => {
    const project = makeProject([]);
    mkdirSync(join(project, 'manifests', 'v1'), { recursive: true });
    const file = join(project, 'manifests', 'v1', 'manifest.json');
    const original = `${JSON.stringify(minimalManifest('20261201T000000Z-aaaaaa'), null, 2)}\n`;
    writeFileSync(file, original);
    expect((await conform(['keygen'], { cwd: project })).exitCode).toBe(0);
    expect((await conform(['keygen', '--out', 'other'], { cwd: project })).exitCode).toBe(0);
    const key = readFileSync(join(project, 'conform-manifest.key'), 'utf8');
    // Without --release, in a folder with no git tag, the release is "unknown": the error names the ones there are.
    const unnamed = await conform(['manifest', 'sign', '--key-env', 'MANIFEST_KEY'], { cwd: project, env: { MANIFEST_KEY: key } });
    expect([unnamed.exitCode, unnamed.stderr.trim()]).toEqual([2, 'conform manifest: manifests/unknown/manifest.json: no such file; manifests has "v1": give --release v1 or --manifest <file>']);
    const signed = await conform(['manifest', 'sign', '--key-env', 'MANIFEST_KEY', '--release', 'v1'], { cwd: project, env: { MANIFEST_KEY: key } });
    expect(signed.exitCode, signed.stderr).toBe(0);
    expect(signed.stdout).not.toContain('PRIVATE');
    const envelopeFile = join(project, 'manifests', 'v1', 'manifest.dsse.json');
    const envelope = readFileSync(envelopeFile, 'utf8');
    const verify = (pub = 'conform-manifest.pub') => conform(['manifest', 'verify', '--pub', pub, '--release', 'v1'], { cwd: project });
    const ok = await verify();
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^verified: manifests\/v1\/manifest\.json \(sha256 [0-9a-f]{64}, release v1\.0\.0, run 20261201T000000Z-aaaaaa\) is signed by key [0-9a-f]{64}$/m);

    const failed = async (why: RegExp, pub?: string) => {
      const r = await verify(pub);
      expect(r.exitCode, r.stdout).toBe(1);
      expect(r.stderr.trim()).toMatch(why);
    };
    writeFileSync(file, original.replace('"v1.0.0"', '"v1.0.1"'));
    await failed(/^conform manifest verify: FAILED: manifests\/v1\/manifest\.json: manifest\.json was altered after signing/);
    writeFileSync(file, original);
    const e = JSON.parse(envelope);
    const flipped = (b64: string, at: number) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[at] = bytes[at]! ^ 1;
      return bytes.toString('base64');
    };
    writeFileSync(envelopeFile, JSON.stringify({ ...e, payload: flipped(e.payload, 20) }));
    await failed(/the payload was altered after signing$/);
    writeFileSync(envelopeFile, JSON.stringify({ ...e, signatures: [{ ...e.signatures[0], sig: flipped(e.signatures[0].sig, 5) }] }));
    await failed(/the signature was altered$/);
    writeFileSync(envelopeFile, envelope);
    await failed(/not signed by this key/, 'other.pub');
    writeFileSync(file, `${JSON.stringify(minimalManifest('20261202T000000Z-bbbbbb'), null, 2)}\n`);
    await failed(/stale subject digest: the envelope signs the manifest of run 20261201T000000Z-aaaaaa .* but manifest\.json is run 20261202T000000Z-bbbbbb's/);
    writeFileSync(envelopeFile, '{ not json');
    await failed(/^conform manifest verify: FAILED: manifests\/v1\/manifest\.dsse\.json: not valid JSON/);
  });

  it('refuses a missing or non-Ed25519 key with a usage error that never shows the key', async () => {
    const project = makeProject([]);
    const unset = await conform(['manifest', 'sign', '--key-env', 'NOPE', '--release', 'v1'], { cwd: project });
    expect([unset.exitCode, unset.stderr.trim()]).toEqual([2, 'conform manifest: --key-env NOPE: $NOPE is not set; put the PEM private key in it, for example export NOPE="$(cat conform-manifest.key)"']);
    const bad = await conform(['manifest', 'sign', '--key-env', 'K', '--release', 'v1'], { cwd: project, env: { K: 'secret-not-a-key' } });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/\$K: not a PEM private key/);
    expect(bad.stderr).not.toContain('secret-not-a-key');
  });
});

describe('run, manifest, sign, verify on the built-in backends', () => {
  it('derives the manifest of a real run: cpu and vulkan identity, precision, plan, drift; signs and verifies it', async () => {
    const project = makeProject(['suites', 'golden']);
    const run = await conform(['run', '--suite', 'smoke', '--backend', 'cpu', '--backend', 'vulkan'], { cwd: project, timeout: 600_000 });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const made = await conform(['manifest', '--release', 'v0.1.0'], { cwd: project });
    expect(made.exitCode, made.stderr).toBe(0);
    const manifest = json<ReleaseManifest>(join(project, 'manifests', 'v0.1.0', 'manifest.json'));
    const [cpu, vulkan] = ['cpu', 'vulkan'].map((name) => manifest.backends.find((b) => b.name === name)!);
    expect(manifest.model.sha256).toBe('1728dcc6d835e8a99b1c542c0f9c685cee750134a114258ae0d994e3e9e4cac0');
    expect((cpu!.precision.weights as WeightPrecision).fileType).toBe('ALL_F32');
    expect(cpu!.precision.kvCache).toMatchObject({ key: 'F16', value: 'F16' });
    expect(cpu!.kernelPlan).toMatchObject({ flashAttention: true, threads: 1, batchSize: 512 });
    expect(vulkan!.identity.gpu).toBe('vulkan');
    expect(vulkan!.verdicts.suites.smoke!.fail).toBe(0);
    expect((cpu!.drift as Drift).identicalCases).toBe((cpu!.drift as Drift).comparedCases);
    expect((vulkan!.drift as Drift).comparedCases).toBeGreaterThan(5);
    expect(cpu!.features.logprobs).toBe('yes');
    expect(made.stdout).toMatch(/^ {2}vulkan \(software-gpu, ran\): weights ALL_F32/m);
    // The default config gives cpu six variants; without --variants none of them runs.
    const history = json<PlanHistory>(join(project, 'manifests', 'history.json'));
    expect(Object.keys(history.runs[0]!.plans).sort()).toEqual(['cpu', 'vulkan']);

    expect((await conform(['keygen'], { cwd: project })).exitCode).toBe(0);
    const key = readFileSync(join(project, 'conform-manifest.key'), 'utf8');
    expect((await conform(['manifest', 'sign', '--key-env', 'K', '--release', 'v0.1.0'], { cwd: project, env: { K: key } })).exitCode).toBe(0);
    const verified = await conform(['manifest', 'verify', '--pub', 'conform-manifest.pub', '--release', 'v0.1.0'], { cwd: project });
    expect(verified.exitCode, verified.stderr).toBe(0);
  }, 900_000);

  it('conform run --variants runs flash attention off, a KV cache type and a batch size of cpu as cpu@<variant>', async () => {
    const config = `backends:
  - name: cpu
    class: cpu
    model: conform-tiny
    launch: { command: conform, args: [serve, --gpu, cpu, --model, "{model}", --port, "{port}", --threads, "1"] }
    variants:
      - { name: fa-off, set: { --flash-attention: "off" } }
      - { name: kv-f32, set: { --kv-cache-type: f32 } }
      - { name: batch-64, set: { --batch-size: "64" } }
suites: [suites/smoke.yaml]
`;
    const project = makeProject(['suites', 'golden'], { 'conform.config.yaml': config });
    const run = await conform(['run', '--variants'], { cwd: project, timeout: 600_000 });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const summary = json<RunSummary>(join(runDirOf(run.stdout)!, 'summary.json'));
    expect(summary.backends.map((b) => [b.name, b.state])).toEqual([['cpu', 'ran'], ['cpu@fa-off', 'ran'], ['cpu@kv-f32', 'ran'], ['cpu@batch-64', 'ran']]);
    for (const name of ['cpu@fa-off', 'cpu@kv-f32', 'cpu@batch-64']) expect(summary.matrix[name]!.smoke!.pass, name).toBeGreaterThanOrEqual(10);
    // Without --variants only the base plan runs.
    expect((await conform(['manifest', '--release', 'v0.1.0'], { cwd: project })).exitCode).toBe(0);
    const manifest = json<ReleaseManifest>(join(project, 'manifests', 'v0.1.0', 'manifest.json'));
    const plan = (name: string) => manifest.backends.find((b) => b.name === name)!;
    expect(plan('cpu@fa-off').kernelPlan.flashAttention).toBe(false);
    expect(plan('cpu@kv-f32').precision.kvCache).toMatchObject({ key: 'F32', value: 'F32', source: 'launch args (--kv-cache-type)' });
    expect(plan('cpu@batch-64').kernelPlan).toMatchObject({ batchSize: 64, microBatchSize: 64 });
    expect(plan('cpu@fa-off').variantOf).toEqual({ backend: 'cpu', variant: 'fa-off' });
    const history = json<PlanHistory>(join(project, 'manifests', 'history.json'));
    expect(Object.values(history.runs[0]!.plans).map((p) => [p.backend, p.variant])).toEqual([['cpu', null], ['cpu', 'fa-off'], ['cpu', 'kv-f32'], ['cpu', 'batch-64']]);
    // Speed per case comes from streamed answers (TTFT, and decode tokens/s after the first token).
    expect(Object.keys(history.runs[0]!.plans['cpu@fa-off']!.cases)).toEqual(expect.arrayContaining(['smoke/chat-stream', 'smoke/completion-stream']));
    expect(history.runs[0]!.plans['cpu@fa-off']!.cases['smoke/chat-stream']!.ttftMs).toBeGreaterThan(0);
  }, 900_000);
});
