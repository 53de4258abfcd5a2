// A strict reader of the Prometheus text exposition format 0.0.4, for tests: it throws on any
// line a Prometheus server would refuse and returns the samples to assert on.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** the value of one sample; undefined when absent */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const METRIC = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = "[a-zA-Z_][a-zA-Z0-9_]*";
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES = ["_bucket", "_sum", "_count", "_total", "_created"];
/** What Prometheus's parser accepts (Go's ParseFloat: NaN and Inf in any case; prom-client writes "Nan"). */
const FLOAT = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i;

function parseValue(text: string, line: string): number {
  if (!FLOAT.test(text)) throw new Error(`bad value in ${JSON.stringify(line)}`);
  const lower = text.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower.includes("inf")) return lower.startsWith("-") ? -Infinity : Infinity;
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  const labelName = new RegExp(`^${LABEL}`);
  while (i < text.length) {
    const name = labelName.exec(text.slice(i))?.[0];
    if (!name || text[i + name.length] !== "=" || text[i + name.length + 1] !== '"') throw new Error(`bad label in ${JSON.stringify(line)}`);
    i += name.length + 2;
    let value = "";
    for (;;) {
      const c = text[i++];
      if (c === undefined) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
      if (c === '"') break;
      if (c === "\\") {
        const e = text[i++];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new Error(`bad escape in ${JSON.stringify(line)}`);
      } else value += c;
    }
    if (name in labels) throw new Error(`label ${name} twice in ${JSON.stringify(line)}`);
    labels[name] = value;
    if (text[i] === ",") i++;
    else if (i < text.length) throw new Error(`expected , in ${JSON.stringify(line)}`);
  }
  return labels;
}

function familyOf(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  for (const suffix of SUFFIXES) if (name.endsWith(suffix) && types.has(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length);
  return name;
}

export function parseExposition(text: string): Exposition {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current = "";
  const sampleLine = new RegExp(`^(${METRIC})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const meta = new RegExp(`^# (HELP|TYPE) (${METRIC}) ?(.*)$`).exec(line);
      if (!meta) continue; // a plain comment
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`bad type in ${JSON.stringify(line)}`);
        if (types.has(name)) throw new Error(`TYPE twice for ${name}`);
        if (samples.some((s) => familyOf(s.name, types) === name)) throw new Error(`TYPE after samples for ${name}`);
        types.set(name, rest);
      } else {
        if (helps.has(name)) throw new Error(`HELP twice for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`bad escape in HELP ${JSON.stringify(line)}`);
        helps.add(name);
      }
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`bad sample line ${JSON.stringify(line)}`);
    const name = match[1]!;
    const labels = parseLabels(match[2] ?? "", line);
    const value = parseValue(match[3]!, line);
    const family = familyOf(name, types);
    if (family !== current) {
      if (closed.has(family)) throw new Error(`samples of ${family} are not together`);
      if (current) closed.add(current);
      current = family;
    }
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`duplicate sample ${line}`);
    seen.add(id);
    if (types.get(family) === "counter" && !(value >= 0)) throw new Error(`negative counter ${line}`);
    samples.push({ name, labels, value });
  }
  return {
    types,
    samples,
    value(name, labels = {}) {
      const want = Object.entries(labels);
      return samples.find((s) => s.name === name && want.every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === want.length)?.value;
    },
  };
}
