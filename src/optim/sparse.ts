// The group-sparse methods behind one registry (docs/DESIGN.md, "Optimizers"). Each
// method is one file in methods/ with its own settings and its MethodSpec (how a job's
// settings become them, method_spec.ts); adding one is a file and a
// line here. Groups that reach exactly zero stay exactly zero under every method.
import type { GroupIndex } from './group_index.js';
import { Dhspg, dhspgSpec, type DhspgConfig } from './methods/dhspg.js';
import { Hesso, hessoSpec, type HessoConfig } from './methods/hesso.js';
import { Hspg, hspgSpec, type HspgConfig } from './methods/hspg.js';
import { ObProxSg, obProxSgSpec, type ObProxSgConfig } from './methods/obproxsg.js';
import { ProxSg, proxSgSpec, type ProxSgConfig } from './methods/proxsg.js';
import type { MethodSpec } from './method_spec.js';
import type { SparseOptimizer } from './sparse_optimizer.js';

/** One method's settings, told apart by `method`. */
export type SparseConfig = ProxSgConfig | HspgConfig | ObProxSgConfig | DhspgConfig | HessoConfig;
export type SparseMethod = SparseConfig['method'];

interface Entry<M extends SparseMethod> {
  create: (index: GroupIndex, config: Extract<SparseConfig, { method: M }>) => SparseOptimizer;
  spec: MethodSpec<Extract<SparseConfig, { method: M }>>;
}

const registry: { [M in SparseMethod]: Entry<M> } = {
  proxsg: { create: (index, config) => new ProxSg(index, config), spec: proxSgSpec },
  hspg: { create: (index, config) => new Hspg(index, config), spec: hspgSpec },
  obproxsg: { create: (index, config) => new ObProxSg(index, config), spec: obProxSgSpec },
  dhspg: { create: (index, config) => new Dhspg(index, config), spec: dhspgSpec },
  hesso: { create: (index, config) => new Hesso(index, config), spec: hessoSpec },
};

export const sparseMethods = Object.keys(registry) as SparseMethod[];

function entry(method: SparseMethod): Entry<SparseMethod> {
  const found = registry[method] as Entry<SparseMethod> | undefined;
  if (!found) throw new Error(`unknown sparse optimizer '${method as string}': use one of ${sparseMethods.join(', ')}`);
  return found;
}

export function createSparseOptimizer(index: GroupIndex, config: SparseConfig): SparseOptimizer {
  return entry(config.method).create(index, config as never);
}

/** How a job's settings become `method`'s configuration (method_spec.ts). */
export function methodSpec(method: SparseMethod): MethodSpec<SparseConfig> {
  return entry(method).spec as MethodSpec<SparseConfig>;
}

export { SparseOptimizer, type GroupStats, type SparseCommon, type SparseState } from './sparse_optimizer.js';
export type { ProxSgConfig, HspgConfig, ObProxSgConfig, DhspgConfig, HessoConfig };
export type { PruneTarget } from './target.js';
export { TARGET_BY, type MethodBuild, type MethodSettings, type MethodSpec } from './method_spec.js';
