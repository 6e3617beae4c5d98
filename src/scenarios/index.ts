/** The scenario packs, by name. Adding a pack = one folder + one line here. */
import { factory } from './factory/index.js';
import { fleet } from './fleet/index.js';
import { patientMonitoring } from './patient-monitoring/index.js';
import { smartFarm } from './smart-farm/index.js';
import { smartHome } from './smart-home/index.js';
import { smartMeters } from './smart-meters/index.js';
import type { ScenarioPack } from './types.js';
import { vending } from './vending/index.js';

export const PACKS: readonly ScenarioPack[] = [smartFarm, factory, fleet, patientMonitoring, vending, smartMeters, smartHome];

export function getPack(name: string): ScenarioPack | undefined {
  return PACKS.find((p) => p.name === name);
}

export type { ScenarioPack } from './types.js';
