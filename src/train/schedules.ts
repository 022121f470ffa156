// Learning-rate schedules as pure functions of the step, so a resumed run picks up
// the same rate from its step counter alone.

export const scheduleNames = ['constant', 'step', 'cosine'] as const;
export type ScheduleName = (typeof scheduleNames)[number];

export interface ScheduleConfig {
  name: ScheduleName;
  baseLr: number;
  totalSteps: number;
  /** linear warm-up from baseLr/warmupSteps to baseLr over this many steps */
  warmupSteps?: number;
  /** 'step': multiply by gamma at each of these steps */
  milestones?: number[];
  gamma?: number;
  /** 'cosine': the rate it ends at */
  minLr?: number;
}

export type LearningRateSchedule = (step: number) => number;

export function createSchedule(c: ScheduleConfig): LearningRateSchedule {
  if (!(c.baseLr > 0) || !Number.isFinite(c.baseLr)) throw new Error(`learning rate must be a positive number, got ${c.baseLr}`);
  const warmup = c.warmupSteps ?? 0;
  const gamma = c.gamma ?? 0.1;
  const minLr = c.minLr ?? 0;
  const milestones = [...(c.milestones ?? [])].sort((a, b) => a - b);
  const after = (step: number): number => {
    switch (c.name) {
      case 'constant':
        return c.baseLr;
      case 'step':
        return c.baseLr * gamma ** milestones.filter((m) => step >= m).length;
      case 'cosine': {
        const span = Math.max(1, c.totalSteps - warmup);
        const progress = Math.min(1, Math.max(0, (step - warmup) / span));
        return minLr + 0.5 * (c.baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
      }
      default:
        throw new Error(`unknown schedule '${c.name as string}': use one of ${scheduleNames.join(', ')}`);
    }
  };
  return (step) => (step < warmup ? (c.baseLr * (step + 1)) / warmup : after(step));
}

/** The settings of a schedule given in epochs, as training takes them. */
export interface EpochScheduleSettings {
  schedule: ScheduleName;
  lr: number;
  epochs: number;
  warmupEpochs?: number;
  milestones?: number[];
  gamma?: number;
}

/** The schedule in steps of settings given in epochs. */
export function epochSchedule(s: EpochScheduleSettings, stepsPerEpoch: number): LearningRateSchedule {
  return createSchedule({
    name: s.schedule,
    baseLr: s.lr,
    totalSteps: s.epochs * stepsPerEpoch,
    warmupSteps: Math.round((s.warmupEpochs ?? 0) * stepsPerEpoch),
    milestones: (s.milestones ?? []).map((e) => e * stepsPerEpoch),
    gamma: s.gamma,
  });
}
