/**
 * Every scenario by name, and the `random` pseudo-scenario: from a seed
 * alone it picks one of them and random small parameters within the
 * scenario's ranges (now and then injecting a fork), so a seed campaign
 * covers all scenarios and a failing seed still replays from
 * `--scenario random --seed N`.
 */
import { type Random, SeededRandom } from '@holdfast/domain';
import { festival3Day } from './festival-3-day.js';
import { latamIntermittent } from './latam-intermittent.js';
import { lteOutage } from './lte-outage.js';
import { massReconnect } from './mass-reconnect.js';
import { resolveParams, type ScenarioDefinition } from './scenario.js';
import { stadiumPartialPartition } from './stadium-partial-partition.js';

export const SCENARIOS: readonly ScenarioDefinition[] = Object.freeze([
  stadiumPartialPartition,
  lteOutage,
  festival3Day,
  latamIntermittent,
  massReconnect,
]);

export const SCENARIO_NAMES: readonly string[] = Object.freeze([...SCENARIOS.map((s) => s.name), 'random']);

/** Share of random variants in which one terminal is restored from an old disk image. */
const RESTORE_SHARE = 0.1;

export function findScenario(name: string): ScenarioDefinition {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new RangeError(`no scenario "${name}"; there are ${SCENARIO_NAMES.join(', ')}`);
  return scenario;
}

/** The scenario and parameters the `random` pseudo-scenario runs for `seed`. */
export function pickRandomVariant(seed: number): { scenario: ScenarioDefinition; params: Record<string, number> } {
  const random: Random = new SeededRandom(seed).fork('random-variant');
  const scenario = SCENARIOS[Math.floor(random.float() * SCENARIOS.length)] as ScenarioDefinition;
  const overrides: Record<string, number> = {};
  for (const [name, [min, max]] of Object.entries(scenario.ranges)) {
    overrides[name] = min + Math.floor(random.float() * (max - min + 1));
  }
  if ('restores' in scenario.defaults) overrides.restores = random.float() < RESTORE_SHARE ? 1 : 0;
  return { scenario, params: resolveParams(scenario, 'small', overrides) };
}
