import { randomBytes } from 'node:crypto';
import type { ProduceConfig } from './config';
import { createGenerator, type Generated, type GeneratorConfig } from '@cdc/bookings';
import type { ProduceSummary } from './summary';

/**
 * Where a run's changes come from: the generator (paced by `--rate`), a scenario's fixed list
 * (sent as fast as the rate allows), or a scenario with relative times, whose events are released
 * when the run's event time reaches them, alone or on top of generated traffic (an overlay).
 */
export interface Source {
  /** The next paced change at event time `ts`; null when the run has no paced changes. */
  next: ((ts: number) => Generated) | null;
  /** Timed scenario events whose time has come by event time `ts` (in order, each once). */
  due(ts: number): Generated[];
  /** Event time of the next timed event not yet released; null when there is none. */
  nextDueTs(): number | null;
  /** Events in the whole run, when known. */
  total: number | null;
  dirty(): number;
  summary: ProduceSummary['source'];
}

const none = (): Generated[] => [];

export function createSource(config: ProduceConfig, nextSeq: number, startTsMs: number): Source {
  const runId =
    (config.source.kind === 'generator' ? config.source.generator.runId : undefined) ??
    randomBytes(4).toString('hex');
  const generatorSettings =
    config.source.kind === 'generator' ? config.source.generator : config.source.generator;
  const gen =
    generatorSettings === null
      ? null
      : (() => {
          const g: GeneratorConfig = {
            ...generatorSettings,
            runId,
            firstSeq: nextSeq,
            firstBookingNumber: nextSeq,
          };
          return { config: g, generator: createGenerator(g) };
        })();

  if (config.source.kind === 'generator') {
    const g = gen!;
    return {
      next: (ts) => g.generator.next(ts),
      due: none,
      nextDueTs: () => null,
      total: config.count,
      dirty: () => g.generator.stats().dirty,
      summary: { kind: 'generator', seed: g.config.seed, runId, firstSeq: nextSeq },
    };
  }

  const { scenario } = config.source;
  if (!scenario.relative) {
    const { events } = scenario;
    let i = 0;
    return {
      next: () => events[i++]!,
      due: none,
      nextDueTs: () => null,
      total: events.length,
      dirty: () => 0,
      summary: { kind: 'scenario', name: scenario.name },
    };
  }

  const timed = scenario.anchor(startTsMs, runId);
  let released = 0;
  return {
    next: gen ? (ts) => gen.generator.next(ts) : null,
    due(ts) {
      const from = released;
      while (released < timed.length && timed[released]!.change.ts_ms <= ts) released += 1;
      return timed.slice(from, released);
    },
    nextDueTs: () => (released < timed.length ? timed[released]!.change.ts_ms : null),
    total: gen ? null : timed.length,
    dirty: () => gen?.generator.stats().dirty ?? 0,
    summary: {
      kind: 'scenario',
      name: scenario.name,
      runId,
      ...(gen ? { seed: gen.config.seed } : {}),
    },
  };
}
