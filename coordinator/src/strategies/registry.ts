/**
 * Strategies by name. A strategy is a file that exports a StrategyKind (how to read its
 * parameters from a job spec, and how to make it around the job's rule) and one line in
 * index.ts that registers it; the scheduler asks only this registry. A strategy jobs may name
 * through the API also lists its parameters in shared/src/strategy.ts, the API's contract.
 */
import type { AggregationSpec } from '@gridtab/shared';
import type { Aggregator } from '../aggregation/aggregator.ts';
import { aggregatorFor } from '../aggregation/rules.ts';
import type { Strategy } from './strategy.ts';

export interface StrategyKind<P> {
  readonly name: string;
  /** The spec's strategy object (a bare name arrives as `{ name }`): its parameters, defaults filled. */
  parse(spec: { name: string }): P;
  create(params: P, rule: Aggregator): Strategy;
}

/** Each kind with its parameter type erased, by name. */
const kinds = new Map<string, (spec: { name: string }, rule: Aggregator) => Strategy>();

export function registerStrategy<P>(kind: StrategyKind<P>): void {
  if (kinds.has(kind.name)) throw new Error(`strategy ${kind.name} is registered twice`);
  kinds.set(kind.name, (spec, rule) => kind.create(kind.parse(spec), rule));
}

/** Test support: forgets a strategy a test registered. */
export function unregisterStrategy(name: string): void {
  kinds.delete(name);
}

/** The Strategy a spec's strategy names (a name or an object; none: fedavg), around `aggregation`. */
export function strategyFor(strategy: unknown, aggregation: AggregationSpec): Strategy {
  const spec = typeof strategy === 'string' ? { name: strategy } : (strategy ?? { name: 'fedavg' });
  if (typeof spec !== 'object' || !('name' in spec) || typeof spec.name !== 'string')
    throw new Error(`a strategy has a name: ${JSON.stringify(strategy)}`);
  const name = spec.name;
  const make = kinds.get(name);
  if (!make) throw new Error(`unknown strategy ${name}`);
  return make({ ...spec, name }, aggregatorFor(aggregation));
}

/** The Strategy of a stored job (jobs stored before strategies existed have none; the store fills the rule). */
export function jobStrategy(spec: { strategy?: unknown; aggregation: AggregationSpec }): Strategy {
  return strategyFor(spec.strategy, spec.aggregation);
}
