// Viridis (matplotlib's perceptually uniform map, readable by colour-blind
// users and in greyscale), sampled at 9 stops and interpolated.
const STOPS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

export function viridis(t) {
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  const x = t * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f));
}

// Lines are drawn grouped by colour: one canvas path per bucket instead of
// one per trial keeps 10,000 lines fast.
export const BUCKETS = 16;
export const BUCKET_RGB = Array.from({ length: BUCKETS }, (_, i) => viridis(i / (BUCKETS - 1)));

export function rgba(rgb, alpha) {
  return `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha})`;
}

// 0 = worst, 1 = best objective among `values`, under the study's direction.
export function objectiveScale(model) {
  let min = Infinity;
  let max = -Infinity;
  for (const t of model.order) {
    const v = t.last;
    if (v == null) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min || 1;
  return (v) => {
    if (v == null || !isFinite(min)) return NaN;
    const t = (v - min) / span;
    return model.lowerIsBetter ? 1 - t : t;
  };
}

export function bucketOf(t) {
  if (!(t >= 0)) return -1;
  return Math.min(BUCKETS - 1, Math.floor(t * BUCKETS));
}

export const HIGHLIGHT = '#e4572e';
export const LINEAGE = '#e4572e';
