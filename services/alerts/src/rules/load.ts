import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ZodIssue } from 'zod';
import { assertTimeZone, ConfigError } from '@cdc/core';
import { RULE_TYPES, rulesFileSchema, shapeFor, type RuleInput, type RuleType } from './schema';
import type { Rule } from './types';

/**
 * Reads and validates a rules file. Every problem is reported with the file, the line and
 * column (YAML's own source positions) and the field, e.g.
 * `alerts.yaml:12:13: rules[2] (cancellation_spike) window: must be a positive window such as 30s
 * or 5m (got '-5m')`, all at once, as one ConfigError (exit 2).
 */
export const DEFAULT_RULES_FILE = path.resolve(__dirname, '../../alerts.yaml');

type PathKey = string | number;

interface Located {
  line: number;
  col: number;
}

function locate(doc: Document, counter: LineCounter, at: PathKey[], key?: string): Located {
  // The deepest node that exists on the path: the field, else its rule, else the file.
  for (let n = at.length; n >= 0; n -= 1) {
    const node = doc.getIn(at.slice(0, n), true) as Node | undefined;
    if (node && typeof node === 'object' && 'range' in node && node.range) {
      if (n === at.length && key !== undefined && isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
        const k = pair?.key as Node | undefined;
        if (k?.range) return counter.linePos(k.range[0]);
      }
      return counter.linePos(node.range[0]);
    }
  }
  return { line: 1, col: 1 };
}

const fieldName = (p: PathKey[]): string =>
  p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');

export function parseRules(text: string, file: string): Rule[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
  const problems: string[] = [];
  const at = (pos: Located) => `${file}:${pos.line}:${pos.col}`;
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    problems.push(
      `${at(pos)}: not valid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(`invalid rules file:\n  ${problems.join('\n  ')}`);

  const raw = doc.toJS() as unknown;
  const report = (issue: ZodIssue, base: PathKey[], ruleLabel: string) => {
    const p = [...base, ...issue.path];
    const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const pos = locate(doc, counter, p, unknownKey);
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : fieldName(issue.path);
    const message =
      issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''}` : issue.message;
    problems.push(`${at(pos)}: ${ruleLabel}${field ? ` ${field}` : ''}: ${message}`);
  };

  const top = rulesFileSchema.safeParse(raw ?? {});
  if (!top.success) {
    for (const issue of top.error.issues) report(issue, [], '(file)');
    throw new ConfigError(`invalid rules file:\n  ${problems.join('\n  ')}`);
  }

  const rules: Rule[] = [];
  const names = new Map<string, number>();
  top.data.rules.forEach((entry, i) => {
    const base: PathKey[] = ['rules', i];
    const type = (entry as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !(RULE_TYPES as readonly string[]).includes(type)) {
      const pos = locate(doc, counter, [...base, 'type']);
      problems.push(
        `${at(pos)}: rules[${i}] type: ${
          type === undefined ? 'missing' : `unknown rule type ${JSON.stringify(type)}`
        } (one of ${RULE_TYPES.join(', ')})`,
      );
      return;
    }
    const parsed = shapeFor(type as RuleType).safeParse(entry);
    const name = (entry as { name?: unknown }).name;
    const label = `rules[${i}] (${typeof name === 'string' ? name : type})`;
    if (!parsed.success) {
      for (const issue of parsed.error.issues) report(issue, base, label);
      return;
    }
    const rule = toRule(parsed.data as RuleInput);
    if (rule.type === 'booking_surge' || rule.type === 'cancellation_spike' || rule.type === 'booking_drop') {
      try {
        assertTimeZone(rule.baseline.timeZone);
      } catch (err) {
        const pos = locate(doc, counter, [...base, 'baseline', 'time_zone']);
        problems.push(`${at(pos)}: ${label} baseline.time_zone: ${(err as Error).message}`);
      }
    }
    const seen = names.get(rule.name);
    if (seen !== undefined) {
      const pos = locate(doc, counter, [...base, 'name']);
      problems.push(
        `${at(pos)}: ${label} name: '${rule.name}' is also the name of rules[${seen}] (give one a name of its own)`,
      );
    }
    names.set(rule.name, i);
    rules.push(rule);
  });
  if (problems.length > 0) throw new ConfigError(`invalid rules file:\n  ${problems.join('\n  ')}`);
  return rules;
}

export function loadRulesFile(file: string): Rule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the rules file ${file}: ${(err as Error).message}`);
  }
  return parseRules(text, file);
}

function toRule(r: RuleInput): Rule {
  const base = {
    name: r.name ?? r.type,
    severity: r.severity,
    labels: r.labels,
    forMs: r.for,
    keepFiringForMs: r.keep_firing_for,
  };
  switch (r.type) {
    case 'cancellation_spike':
    case 'booking_surge':
    case 'booking_drop': {
      const down = r.type === 'booking_drop';
      return {
        ...base,
        type: r.type,
        metric: r.type === 'cancellation_spike' ? 'cancellations' : 'bookings',
        direction: down ? 'down' : 'up',
        subjects: r.subjects,
        windowMs: r.window,
        ratio: r.ratio,
        zScore: r.z_score,
        clearRatio: r.clear_ratio,
        minCount: 'min_count' in r ? r.min_count : 0,
        minExpected: 'min_expected' in r ? r.min_expected : 0,
        baseline: {
          kind: r.baseline.kind,
          halfLifeMs: r.baseline.half_life,
          warmUpMs: r.baseline.warm_up,
          timeZone: r.baseline.time_zone,
        },
      };
    }
    case 'data_quality_low':
      return {
        ...base,
        type: r.type,
        subjects: r.subjects,
        below: r.below,
        clearAbove: r.clear_above,
        minBookings: r.min_bookings,
      };
    case 'dead_letters':
      return { ...base, type: r.type, windowMs: r.window, minCount: r.min_count };
    case 'pipeline_stale':
      return {
        ...base,
        type: r.type,
        maxLag: r.max_lag,
        maxFreshnessMs: r.max_freshness,
        clearRatio: r.clear_ratio,
      };
  }
}
