/**
 * Learning-rate schedule: linear warm-up from 0 to `lr` over `warmupSteps`, then linear decay to 0
 * at `totalSteps` (Hugging Face's get_linear_schedule_with_warmup). `step` is 1-based: the value
 * used for the step-th update.
 */
export function linearWarmupDecay(step: number, lr: number, warmupSteps: number, totalSteps: number): number {
  if (step <= warmupSteps && warmupSteps > 0) return (lr * step) / warmupSteps;
  const rest = Math.max(1, totalSteps - warmupSteps);
  return Math.max(0, (lr * (totalSteps - step + 1)) / rest);
}
