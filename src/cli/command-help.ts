// The help of every command, in a module of its own: `conform <command> --help` prints it without loading the
// command and its imports (run pulls in the runner, the reporters and Handlebars: 0.7-1.0 s before, on a 2-core
// machine). Each command module re-exports its own help, and prints it for --help given after other flags.

export const INIT_HELP = `conform init [--yaml] [--force]

Writes a starter conform.config.ts (conform.config.yaml with --yaml) and suites/example.yaml
into the current folder: the three built-in backends (llama.cpp on cpu, on cpu with the fixture's
Q8_0 weights as cpu-q8, and on Vulkan, with the fixture model) and one small suite that passes on
all three. Nothing is overwritten unless --force.

Then record the starter suite's golden on cpu, and run it on every backend:
  npx conform record
  npx conform run`;

export const RUN_HELP = `conform run [--backend <name>]... [--suite <glob>]... [--shard i/n] [--variants] [--config <file>]
conform run --resume <run folder> [--config <file>]

Runs the suites against each backend (launching those with a launch command), compares
every sample with golden, and writes reports/<run-id>/: samples.jsonl (as results land),
summary.json, junit.xml, summary.md and report.html, plus logs/<backend>.log.
--variants also runs each backend's plan variants (config: variants), as <backend>@<variant>.
--resume continues a run that was killed or interrupted, in its own folder and under its own id:
it runs only the cases without a result, with the backends, suites and shard the run was started
with, and refuses if the config, a suite, a golden file or conform changed since.
Exit codes: 0 all passed, 1 conformance failures, 2 config or usage error, 3 infrastructure errors only.`;

export const RECORD_HELP = `conform record [--backend <name>] [--suite <glob>]... [--config <file>]

Runs the suites on one backend (default: the config's reference, cpu) and writes golden/<suite>.json
with provenance: backend identity, model sha256, conform version and date.

A case the backend cannot serve (it refused the request with an HTTP error such as 400 or 500, broke
the protocol, or a requirement excludes it: a cold/warm start of a server conform does not launch, a
prompt beyond its context) is written to provenance.unsupported with the reason, not as a sample.
A case that failed to record for other reasons (timeout, connection refused or lost, 401/403/404,
429/503 after retries) leaves that suite's golden file as it was; the other suites are written.

Exit codes: 0 every selected suite's golden written; 3 a suite left unchanged, the backend
unreachable or not started (nothing written), or interrupted (nothing written); 2 usage or config error.`;

export const BACKENDS_HELP = `conform backends [--backend <name>]... [--json] [--config <file>]

Lists the configured backends and probes each one (launching those with a launch command):
reachable or not, model, engine and version, device, and what it really supports: logprobs,
tools, a named tool_choice, streamed tool calls (with logprobs, as the suites send them),
json_schema. Each feature is "yes", "no" with why (what the answer lacked, or the server's own
refusal, e.g. "no: HTTP 400 logprobs is not supported with tools + stream"), or "error" with what
kept the answer away (timeout, a busy server); the reasons are listed under the table.

Exit codes: 0 every backend answered (features may be missing; a launched backend whose device
is absent here is listed as unavailable); 3 a backend is unreachable (for example "unreachable:
connection refused at http://127.0.0.1:8080/v1") or its launch failed; 2 usage or config error.`;

export const SERVE_HELP = `conform serve: the built-in OpenAI-compatible engine (llama.cpp through node-llama-cpp)

  --gpu cpu|vulkan|cuda|metal|auto   device to run on (default cpu)
  --model <path.gguf>                model file (default: the fixture model, generated once into the cache)
  --model-name <name>                name reported by /v1/models (default: conform-tiny)
  --host <addr>                      listen address (default 127.0.0.1)
  --port <n>                         listen port (default 8080; 0 picks a free one)
  --threads <n>                      CPU threads for ggml (default 1; the engine's default oversubscribes small machines)
  --context-size <n>                 context length (default: the model's)
  --parallel <n>                     requests evaluated at once (default 1, free of batch variance)
  --flash-attention on|off           fused attention kernels (default on; off crashed llama.cpp's Vulkan backend on llvmpipe past ~1K-token prompts)
  --kv-cache-type f32|f16|q8_0|q4_0  KV cache type of keys and values (default f16; quantized values need flash attention)
  --batch-size <n>                   prompt tokens evaluated per batch (default 512, or the context size when smaller)
  --weights f32|f16|q8_0|q4_0        the fixture model stored at this precision (default f32, the one golden is recorded with);
                                     with --model, that file must be the f32 fixture, and its variant is written beside it

Exit code 69 means the requested device does not exist here.`;

export const MODEL_HELP = `conform model create [--out <path>] [--weights f32|f16|q8_0|q4_0]

Writes the tiny fixture GGUF (llama architecture, byte-fallback vocabulary, ChatML template,
seeded weights). Same bytes every time; prints its sha256. Default --out: conform-tiny.gguf
(conform-tiny-<weights>.gguf for another precision). --weights stores the same weights at that
precision, by llama-quantize's recipe for these shapes (default f32, the one golden is recorded with).`;

export const MERGE_HELP = `conform merge <run folder or summary.json>... [--out <dir>] [--config <file>]

Merges run records (shards of one run, or one run per backend from a CI matrix) into one run
folder: summary.json with backends and results joined by their stable ids, matrix and totals
recounted, and samples.jsonl holding every merged result with its sample. report, gate and badge
read the result like any run. Default --out: <reportsDir>/merged-<start>-<hash of the input run ids>.
A result present in two inputs with different content is refused (exit 2).`;

export const GATE_HELP = `conform gate [--baseline <summary.json or run folder>] [<run folder>] [--policy <file.json|yaml>] [--config <file>]
conform gate --approve [<run folder>] --reason "<why>" [--by <name>] [--baseline-out <file>] [--config <file>]

Compares a run (default: the newest under reports/) with the approved baseline (default
baselines/baseline.json) and fails on: a case that passed and now fails or errors, a new error,
a backend or case id missing (a previously passing case now skipped is reported), and a latency
regression per backend (end-to-end and TTFT: one-sided Mann–Whitney U at alpha AND p90 up by more
than p90Increase, with at least minSamples on each side), and, when the policy names them, cost per
1K tokens or joules per output token over a ceiling or grown past an increase (one-sided Wilcoxon
signed-rank over the requests, at alpha; energy that was not measured is reported, never read as 0).
Policy file (JSON or YAML), defaults shown:
  alpha: 0.01
  p90Increase: 0.25
  minSamples: 8
  failOnNewSkips: false
  costPer1k: { max: 0.002, increase: 0.25 }     # optional: a ceiling on cost per 1K tokens, and/or its largest increase
  joulesPerToken: { max: 0.5, increase: 0.25 }  # optional: the same on joules per output token
  caveats:          # known failures, accepted until they expire
    - { backend: vulkan, suite: smoke, case: chat-unicode, reason: "driver bug #123", expires: "2026-03-31" }

--approve promotes a run to the baseline file, recording approval { by, at, reason, runId } inside;
--by defaults to git's user.name, then $USER.
Exit codes: 0 no regression, 1 regressions (listed), 2 usage, config or record error.`;

export const BADGE_HELP = `conform badge [<run folder>] [--release vX.Y.Z] [--label conform] [--out badges] [--config <file>]

Writes a pass badge per backend for a run (default: the newest under reports/):
  <out>/<backend>.svg    "<label> <backend> | passing vX.Y.Z" (green), "failing" (red) or "unknown" (grey)
  <out>/<backend>.json   the same as a shields.io endpoint: { schemaVersion: 1, label, message, color }
  <out>/history.json     per backend: the last passing release and date, and recent results
  <out>/last-passing.md  the last passing release per backend, as a Markdown table
passing: every case that ran passed; unknown: not run, all skipped, or errors only; failing otherwise.
Release: --release, else the config's release, else "git describe --tags --abbrev=0", else unknown.`;

export const ROUTE_HELP = `conform route [<run folder>] --policy <policy.yaml> [--out <dir>] [--config <file>]

Ranks the backends of a run (default: the newest under reports/) per request class, under the
constraints the policy names, and writes routing.json (the table) and routing.md (why) into the run
folder, or --out. Among the backends that meet a class's constraints, the cheapest per 1K tokens comes
first, then the lower TTFT. Policy file (YAML or JSON):
  defaults:                                  # constraints for every class, each optional
    ttft: { percentile: 90, maxMs: 2000 }    # TTFT at a percentile of the class's streamed requests
    maxCostPer1k: 0.01                       # cost per 1K tokens of the class's requests (backend cost in the config)
    requireSuites: [smoke]                   # suites the backend must pass in the run
    labels: { region: eu-west }              # labels the backend must carry (config labels)
    requirePassing: true                     # every case of the class passes (default true)
  classes:                                   # default: one class of every request
    - { name: short-bursts, match: { maxPromptTokens: 512 }, ttft: { percentile: 90, maxMs: 200 } }
    - { name: long-prompts, match: { minPromptTokens: 1000 } }
    - { name: tools, match: { suites: [function-calling] } }
Exit codes: 0 every class has a route, 1 some class has none (listed), 2 usage, policy or record error.`;

export const REPORT_HELP = `conform report [<run-dir>] [--reporter junit,markdown,html] [--config <file>]

Re-renders reports from a run's summary.json (default: the newest run folder under reports/) into
that folder, for example after upgrading conform or to get a format the run did not write.
Reporters: console, json, junit, markdown, html (default: junit,markdown,html); --reporter takes a comma-separated
list and may be repeated. Golden files recorded before the run fill in the golden side of diffs.
markdown also appends to $GITHUB_STEP_SUMMARY when it is set.
Exit codes: 0 written, 2 usage error or an unreadable run record, 3 a report could not be written (the others still are).`;

export const SELFTEST_HELP = `conform selftest [--from <run folder>] [--clean-runs N] [--suite <glob>]... [--config <file>]

Proves detection power. Injects every fault of the catalog (src/faults/catalog.ts) into the samples of a
clean run (--from, or a fresh "conform run" on the configured backends), re-judges them exactly as
"conform run" does, and reports per fault and suite whether it was caught, and by which case and check.
Then runs the non-reference backends N more times (default 10; suites: --suite, else smoke) and counts
cases flagged in those clean runs. Writes reports/selftest-<timestamp>/selftest.json and selftest.md
with the cpu-vs-other calibration (divergence indices, mean KLD, |Δlogprob| percentiles).
Exit codes: 0 all faults judged as they must be and no clean case flagged, 1 otherwise, 2 usage error.`;

export const MANIFEST_HELP = `conform manifest [<run folder>] [--release vX.Y.Z] [--out <file>] [--op-coverage] [--features <backends.json>]
                 [--policy <gate policy>] [--model <file.gguf>]... [--history <file>] [--config <file>]
conform manifest sign --key-env <NAME> [--manifest <file>]      (conform manifest sign --help)
conform manifest verify --pub <key.pem> [--manifest <file>]     (conform manifest verify --help)
conform manifest update --stable <N> [--metric ttft-p50|tokens-per-second]   (conform manifest update --help)

Writes the release manifest of a run (default: the newest under reports/) to
manifests/<release>/manifest.json: per backend its identity; precision (weight types per tensor class
from the GGUF whose sha256 it reported, KV cache types); kernel plan (flash attention, batch and
micro-batch, threads, the launch args); features (from the run's cases, or --features: the output of
"conform backends --json"); op coverage with --op-coverage (llama.cpp's test-backend-ops, support and
test modes, for cpu and vulkan; cached; absent with the reason where it cannot run); verdicts per suite
with the tolerances used; drift from golden (divergence indices, KLD, p99 and max |Δlogprob|); TTFT
and ITL p50/p99, cold and warm start; caveats (--policy caveats, and the cases record could not serve).
It also adds the run to manifests/history.json, the plan history "manifest update" decides from.
Release: --release, else the config's release, else "git describe --tags --abbrev=0", else unknown.`;

export const KEYGEN_HELP = `conform keygen [--out <prefix>] [--force]

Writes an Ed25519 key pair for signing manifests: <prefix>.key (PKCS #8 PEM, readable by you only)
and <prefix>.pub (SPKI PEM, to publish and to verify with). Default prefix: conform-manifest.
Keep the private key out of the repository; in CI put it in a secret and sign with
"conform manifest sign --key-env NAME".`;

/** Each command's help by its name. */
export const COMMAND_HELP: Record<string, string> = {
  init: INIT_HELP,
  run: RUN_HELP,
  record: RECORD_HELP,
  backends: BACKENDS_HELP,
  serve: SERVE_HELP,
  model: MODEL_HELP,
  merge: MERGE_HELP,
  gate: GATE_HELP,
  badge: BADGE_HELP,
  route: ROUTE_HELP,
  report: REPORT_HELP,
  selftest: SELFTEST_HELP,
  manifest: MANIFEST_HELP,
  keygen: KEYGEN_HELP,
};
