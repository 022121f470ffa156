// The group-sparse methods behind one registry (docs/DESIGN.md, "Optimizers"). Each
// method is one file in methods/ with its own settings; adding one is a file and a
// line here. Groups that reach exactly zero stay exactly zero under every method.
import type { GroupIndex } from './group_index.js';
import { Dhspg, type DhspgConfig } from './methods/dhspg.js';
import { Hesso, type HessoConfig } from './methods/hesso.js';
import { Hspg, type HspgConfig } from './methods/hspg.js';
import { ObProxSg, type ObProxSgConfig } from './methods/obproxsg.js';
import { ProxSg, type ProxSgConfig } from './methods/proxsg.js';
import type { SparseOptimizer } from './sparse_optimizer.js';

/** One method's settings, told apart by `method`. */
export type SparseConfig = ProxSgConfig | HspgConfig | ObProxSgConfig | DhspgConfig | HessoConfig;
export type SparseMethod = SparseConfig['method'];

const registry: { [M in SparseMethod]: (index: GroupIndex, config: Extract<SparseConfig, { method: M }>) => SparseOptimizer } = {
  proxsg: (index, config) => new ProxSg(index, config),
  hspg: (index, config) => new Hspg(index, config),
  obproxsg: (index, config) => new ObProxSg(index, config),
  dhspg: (index, config) => new Dhspg(index, config),
  hesso: (index, config) => new Hesso(index, config),
};

export const sparseMethods = Object.keys(registry) as SparseMethod[];

export function createSparseOptimizer(index: GroupIndex, config: SparseConfig): SparseOptimizer {
  const make = registry[config.method] as ((index: GroupIndex, config: SparseConfig) => SparseOptimizer) | undefined;
  if (!make) throw new Error(`unknown sparse optimizer '${config.method as string}': use one of ${sparseMethods.join(', ')}`);
  return make(index, config);
}

export { SparseOptimizer, type GroupStats, type SparseCommon, type SparseState } from './sparse_optimizer.js';
export type { ProxSgConfig, HspgConfig, ObProxSgConfig, DhspgConfig, HessoConfig };
export type { PruneTarget } from './target.js';
