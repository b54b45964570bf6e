/**
 * The spec's group volume: move every player by the difference between the requested and
 * the average volume, clamp to 0..100, and share what clamped players could not take among
 * the others until the average matches or nobody can move.
 */
export function redistributeVolume(volumes: readonly number[], requested: number): number[] {
  const target = Math.min(100, Math.max(0, requested));
  let result = [...volumes];
  if (result.length === 0) return result;
  const wantedSum = target * result.length;
  let free = result.map(() => true);
  for (let round = 0; round < result.length + 1; round++) {
    const missing = wantedSum - result.reduce((a, b) => a + b, 0);
    const movable = free.filter(Boolean).length;
    if (Math.abs(missing) < 1e-9 || movable === 0) break;
    const step = missing / movable;
    result = result.map((v, i) => free[i] ? v + step : v);
    free = result.map((v, i) => free[i] && v > 0 && v < 100);
    result = result.map((v) => Math.min(100, Math.max(0, v)));
  }
  return result.map(Math.round);
}

export function averageVolume(volumes: readonly number[]): number {
  if (volumes.length === 0) return 100;
  return Math.round(volumes.reduce((a, b) => a + b, 0) / volumes.length);
}
