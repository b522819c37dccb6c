// What `conform route --policy` reads: request classes and the constraints a backend must meet to serve
// each. Pure: the CLI parses the YAML, this validates it and names the field at fault.

import { ConformError } from '../core/errors.ts';

/** Which requests of a run form a class: by suite and by prompt length (usage.prompt_tokens). */
export interface ClassMatch {
  suites?: string[];
  minPromptTokens?: number;
  maxPromptTokens?: number;
}

export interface RouteConstraints {
  /** TTFT at a percentile of the class's streamed requests must be at most maxMs. */
  ttft?: { percentile: number; maxMs: number };
  /** Cost per 1K tokens of the class's requests, in the backend's cost currency. */
  maxCostPer1k?: number;
  /** Suites the backend must pass in the run: at least one pass, no failure, no error. */
  requireSuites?: string[];
  /** Labels the backend must carry (config `labels`), e.g. { region: eu-west }. */
  labels?: Record<string, string>;
  /** Every case of the class must pass on the backend. @default true */
  requirePassing?: boolean;
}

export interface RequestClass extends RouteConstraints {
  name: string;
  match: ClassMatch;
}

export interface RoutePolicy {
  classes: RequestClass[];
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const CONSTRAINT_KEYS = ['ttft', 'maxCostPer1k', 'requireSuites', 'labels', 'requirePassing'];

function constraintsOf(raw: Record<string, unknown>, at: string, bad: (what: string) => never): RouteConstraints {
  const out: RouteConstraints = {};
  if (raw.ttft !== undefined) {
    const t = raw.ttft;
    if (!isObject(t) || typeof t.maxMs !== 'number' || !(t.maxMs > 0)) bad(`${at}ttft must be { percentile, maxMs } with maxMs > 0, for example { percentile: 90, maxMs: 500 }`);
    const percentile = (t as { percentile?: unknown }).percentile ?? 90;
    if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100)) bad(`${at}ttft.percentile ${JSON.stringify(percentile)} must be in (0, 100], for example 90`);
    for (const key of Object.keys(t as object)) if (key !== 'percentile' && key !== 'maxMs') bad(`${at}ttft: unknown field "${key}"; known: percentile, maxMs`);
    out.ttft = { percentile: percentile as number, maxMs: (t as { maxMs: number }).maxMs };
  }
  if (raw.maxCostPer1k !== undefined) {
    if (typeof raw.maxCostPer1k !== 'number' || !(raw.maxCostPer1k > 0)) bad(`${at}maxCostPer1k ${JSON.stringify(raw.maxCostPer1k)} must be a number > 0, for example 0.002`);
    out.maxCostPer1k = raw.maxCostPer1k as number;
  }
  if (raw.requireSuites !== undefined) {
    if (!Array.isArray(raw.requireSuites) || !raw.requireSuites.every((s) => typeof s === 'string' && s !== '')) bad(`${at}requireSuites must be a list of suite names, for example [smoke, function-calling]`);
    out.requireSuites = raw.requireSuites as string[];
  }
  if (raw.labels !== undefined) {
    if (!isObject(raw.labels) || !Object.values(raw.labels).every((v) => typeof v === 'string')) bad(`${at}labels must map label names to strings, for example { region: eu-west }`);
    out.labels = raw.labels as Record<string, string>;
  }
  if (raw.requirePassing !== undefined) {
    if (typeof raw.requirePassing !== 'boolean') bad(`${at}requirePassing must be true or false`);
    out.requirePassing = raw.requirePassing as boolean;
  }
  return out;
}

function matchOf(raw: unknown, at: string, bad: (what: string) => never): ClassMatch {
  if (raw === undefined) return {};
  if (!isObject(raw)) return bad(`${at}match must be an object with suites, minPromptTokens and/or maxPromptTokens`);
  const match: ClassMatch = {};
  for (const key of Object.keys(raw)) if (!['suites', 'minPromptTokens', 'maxPromptTokens'].includes(key)) bad(`${at}match: unknown field "${key}"; known: suites, minPromptTokens, maxPromptTokens`);
  if (raw.suites !== undefined) {
    if (!Array.isArray(raw.suites) || !raw.suites.every((s) => typeof s === 'string')) bad(`${at}match.suites must be a list of suite names`);
    match.suites = raw.suites as string[];
  }
  for (const key of ['minPromptTokens', 'maxPromptTokens'] as const) {
    if (raw[key] === undefined) continue;
    if (!Number.isInteger(raw[key]) || (raw[key] as number) < 0) bad(`${at}match.${key} ${JSON.stringify(raw[key])} must be an integer ≥ 0, for example 512`);
    match[key] = raw[key] as number;
  }
  if (match.minPromptTokens !== undefined && match.maxPromptTokens !== undefined && match.minPromptTokens > match.maxPromptTokens)
    bad(`${at}match.minPromptTokens ${match.minPromptTokens} is above maxPromptTokens ${match.maxPromptTokens}`);
  return match;
}

/** Validates a route policy read from YAML or JSON; `defaults` apply to every class that does not say otherwise. */
export function validateRoutePolicy(raw: unknown, source: string): RoutePolicy {
  const bad = (what: string): never => {
    throw new ConformError('CONFIG_INVALID', `${source}: ${what}`);
  };
  if (!isObject(raw)) return bad('a route policy is an object with classes (and optional defaults); see "conform route --help"');
  for (const key of Object.keys(raw)) if (key !== 'classes' && key !== 'defaults') bad(`unknown field "${key}"; known: defaults, classes`);
  if (raw.defaults !== undefined && !isObject(raw.defaults)) bad('defaults must be an object of constraints');
  const defaultsRaw = (raw.defaults ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(defaultsRaw)) if (!CONSTRAINT_KEYS.includes(key)) bad(`defaults: unknown field "${key}"; known: ${CONSTRAINT_KEYS.join(', ')}`);
  const defaults = constraintsOf(defaultsRaw, 'defaults.', bad);
  const classesRaw = raw.classes ?? [{ name: 'all requests' }];
  if (!Array.isArray(classesRaw) || classesRaw.length === 0) bad('classes must be a non-empty list, for example [{ name: short, match: { maxPromptTokens: 512 } }]');
  const names = new Set<string>();
  const classes = (classesRaw as unknown[]).map((c, i): RequestClass => {
    const at = `classes[${i}].`;
    if (!isObject(c)) return bad(`classes[${i}] must be an object with name, match and constraints`);
    for (const key of Object.keys(c)) if (!['name', 'match', ...CONSTRAINT_KEYS].includes(key)) bad(`${at.slice(0, -1)}: unknown field "${key}"; known: name, match, ${CONSTRAINT_KEYS.join(', ')}`);
    if (typeof c.name !== 'string' || c.name.trim() === '') bad(`${at}name must name the class, for example short-bursts`);
    if (names.has(c.name as string)) bad(`${at}name "${c.name as string}" is used twice`);
    names.add(c.name as string);
    return { name: c.name as string, match: matchOf(c.match, at, bad), ...defaults, ...constraintsOf(c, at, bad) };
  });
  return { classes };
}
