// Golden is a recording of one model. Compared with another model's answers, every golden-relative verdict
// would judge the model, not the backend. The strongest evidence decides: the weights' sha256 where both
// sides give one, else the fingerprint servers report about the weights (vocabulary size, parameters,
// embedding width, trained context, file size), else the model name, and the name only between servers
// of the same engine, since engines name models differently (llama-server by the path given with -m).

import type { BackendIdentity, GoldenProvenance, Verdict } from '../core/types.ts';
import type { Comparator } from './comparator.ts';

const CHECK = 'model';

type Fingerprint = NonNullable<BackendIdentity['modelFingerprint']>;

const FINGERPRINT_FIELDS: Array<[keyof Fingerprint, string]> = [
  ['vocabSize', 'vocabulary size'],
  ['parameters', 'parameters'],
  ['embeddingWidth', 'embedding width'],
  ['trainedContext', 'trained context'],
  ['bytes', 'file size'],
];

/** The engine without versions or punctuation: two servers of one family name models the same way. */
export function engineFamily(engine: string | undefined): string | undefined {
  const family = engine?.toLowerCase().replace(/v?\d+(\.\d+)*/g, '').replace(/[^a-z]+/g, ' ').trim();
  return family ? family : undefined;
}

/** What golden says it was recorded with: the provenance's own sha256 wins over the identity's. */
function goldenModel(provenance: GoldenProvenance): BackendIdentity {
  return { ...provenance.identity, modelSha256: provenance.modelSha256 ?? provenance.identity?.modelSha256 };
}

const short = (sha: string) => `${sha.slice(0, 12)}…`;
const named = (id: BackendIdentity) => (id.model ? `"${id.model}"` : 'an unnamed model');

/** Why golden's model and the backend's are not the same one, undefined when they are or nobody can tell, and how it was decided. */
export function compareModels(provenance: GoldenProvenance, backend: BackendIdentity): { same: boolean | undefined; how: string; message: string } {
  const golden = goldenModel(provenance);
  if (golden.modelSha256 && backend.modelSha256) {
    // Quantized from golden's weights: the same model at another precision, which its tolerance class judges.
    if (golden.modelSha256 !== backend.modelSha256 && backend.derivedFromSha256 === golden.modelSha256)
      return {
        same: true,
        how: 'sha256 of the weights it was derived from',
        message: `golden's model at another precision: this backend serves sha256 ${short(backend.modelSha256)}, derived from golden's ${short(golden.modelSha256)}`,
      };
    const same = golden.modelSha256 === backend.modelSha256;
    return {
      same,
      how: 'sha256',
      message: same
        ? `same model as golden: sha256 ${short(backend.modelSha256)}`
        : `golden was recorded with ${named(golden)} (sha256 ${short(golden.modelSha256)}) on ${provenance.backend}; this backend serves ${named(backend)} (sha256 ${short(backend.modelSha256)})`,
    };
  }
  const a = golden.modelFingerprint ?? {};
  const b = backend.modelFingerprint ?? {};
  const common = FINGERPRINT_FIELDS.filter(([field]) => a[field] !== undefined && b[field] !== undefined);
  if (common.length > 0) {
    const differ = common.filter(([field]) => a[field] !== b[field]);
    return {
      same: differ.length === 0,
      how: `fingerprint (${common.map(([, label]) => label).join(', ')})`,
      message:
        differ.length === 0
          ? `same model as golden by ${common.map(([field, label]) => `${label} ${a[field]}`).join(', ')}`
          : `golden was recorded with ${named(golden)} on ${provenance.backend}; this backend serves ${named(backend)}, whose ${differ.map(([field, label]) => `${label} ${b[field]} (golden ${a[field]})`).join(', ')} differ`,
    };
  }
  const family = engineFamily(golden.engine);
  if (golden.model && backend.model && family !== undefined && family === engineFamily(backend.engine)) {
    const same = golden.model === backend.model;
    return {
      same,
      how: 'model name (same engine)',
      message: same
        ? `same model name as golden, "${backend.model}" (no sha256 or fingerprint to tell more)`
        : `golden was recorded with "${golden.model}" on ${provenance.backend}; this backend, the same engine (${backend.engine}), serves "${backend.model}"`,
    };
  }
  return {
    same: undefined,
    how: 'none',
    message: `cannot tell whether this backend serves golden's model ${named(golden)}${golden.modelSha256 ? ` (sha256 ${short(golden.modelSha256)})` : ''}: it gives ${backend.model ? `"${backend.model}"` : 'no model name'} and no sha256 or fingerprint${backend.model ? ', and names differ between engines' : ''}`,
  };
}

/** Golden's model against the backend's; a mismatch fails once per case and the golden-relative checks skip. Needs golden's provenance. */
export const modelIdentity: Comparator = {
  kind: CHECK,
  needsReference: false,
  compare({ goldenProvenance, identity }): Verdict {
    if (!goldenProvenance) return { check: CHECK, status: 'skip', message: 'no golden provenance to compare the model with' };
    const { same, how, message } = compareModels(goldenProvenance, identity ?? {});
    const status = same === undefined ? 'skip' : same ? 'pass' : 'fail';
    return { check: CHECK, status, measured: identity?.modelSha256 ?? identity?.model ?? null, threshold: goldenModel(goldenProvenance).modelSha256 ?? goldenProvenance.identity?.model ?? null, message, details: { decidedBy: how } };
  },
};
