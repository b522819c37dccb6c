// The Prometheus text exposition format (version 0.0.4, and the OpenMetrics lines servers mix in), parsed
// leniently: a server's one odd line must not cost the whole scrape. Pure.

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedMetrics {
  samples: MetricSample[];
  /** `# TYPE` per metric family: counter, gauge, histogram, summary, untyped. */
  types: Map<string, string>;
  /** Lines that were neither comments nor samples; kept so a caller can say how many were skipped. */
  skipped: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Label pairs `a="x",b="y"` from just after `{`; returns the labels and the index after `}`, or undefined. */
function parseLabels(line: string, from: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let i = from;
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!name) return undefined;
    i += name[0].length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=' ) return undefined;
    i++;
    while (line[i] === ' ') i++;
    if (line[i] !== '"') return undefined;
    i++;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) return undefined;
      if (c === '\\') {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : next ?? '';
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        break;
      }
      value += c;
      i++;
    }
    labels[name[0]] = value;
  }
}

/** Every sample in a /metrics body, with the declared type of each family. */
export function parsePrometheusText(text: string): ParsedMetrics {
  const samples: MetricSample[] = [];
  const types = new Map<string, string>();
  let skipped = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\w+)/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const name = NAME.exec(line);
    if (!name) {
      skipped++;
      continue;
    }
    let i = name[0].length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') {
      const parsed = parseLabels(line, i + 1);
      if (!parsed) {
        skipped++;
        continue;
      }
      labels = parsed.labels;
      i = parsed.end;
    }
    // After the value may come a timestamp (and, in OpenMetrics, an exemplar after '#'): ignored.
    const value = parseValue(line.slice(i).trim().split(/\s+/)[0] ?? '');
    if (value === undefined) {
      skipped++;
      continue;
    }
    samples.push({ name: name[0], labels, value });
  }
  return { samples, types, skipped };
}
