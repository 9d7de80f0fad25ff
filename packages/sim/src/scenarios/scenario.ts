/**
 * A scenario: a named, parameterised world drawn from the field reports in
 * the seeds. `build` turns parameters and the scenario's own random stream
 * into a WorldPlan — every terminal, sale rate, outage, crash and clock
 * fault with its time — so one (scenario, parameters, seed) is one run.
 *
 * `defaults` match the reports' numbers; `small` is a variant that keeps the
 * shape and runs in a fraction of a second (CI); `ranges` bound the random
 * variants of the `random` pseudo-scenario (the long seed campaigns).
 */
import type { SeededRandom } from '@holdfast/domain';
import type { Violation } from '../world/invariants.js';
import type { SimWorld } from '../world/sim-world.js';
import type { WorldPlan } from '../world/world-plan.js';

export type Params = Readonly<Record<string, number>>;

export interface ScenarioDefinition {
  name: string;
  /** One line: what the scenario models. */
  description: string;
  /** Each parameter with its meaning, for --list and the docs. */
  parameters: Readonly<Record<string, string>>;
  defaults: Params;
  /** Overrides of `defaults` for a small variant of the same shape. */
  small: Params;
  /** Bounds [min, max] for random variants (integers); unlisted parameters keep their small value. */
  ranges: Readonly<Record<string, readonly [number, number]>>;
  build(params: Params, random: SeededRandom): WorldPlan;
  /** Checks of this scenario's own (beyond the invariants), run after the drain. */
  expect?(world: SimWorld, params: Params): Violation[];
}

/** The parameters of a run: defaults (or the small variant), then overrides; unknown names are refused. */
export function resolveParams(
  scenario: ScenarioDefinition,
  size: 'default' | 'small',
  overrides: Params = {},
): Record<string, number> {
  const params: Record<string, number> = { ...scenario.defaults, ...(size === 'small' ? scenario.small : {}) };
  for (const [name, value] of Object.entries(overrides)) {
    if (!(name in scenario.defaults)) {
      throw new RangeError(
        `scenario ${scenario.name} has no parameter "${name}" (it has ${Object.keys(scenario.defaults).join(', ')})`,
      );
    }
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`parameter ${name} must be a number >= 0`);
    params[name] = value;
  }
  return params;
}

/** A parameter, which every scenario declares in `defaults`. */
export function param(params: Params, name: string): number {
  const value = params[name];
  if (value === undefined) throw new RangeError(`missing parameter ${name}`);
  return value;
}
