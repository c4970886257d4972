// The GB 3838 class bands behind a chart line, from the `bands` of /api/v1/series. "≤" parameters
// carry `upper`, "≥" parameters (DO) carry `lower`, pH carries both (6–9 is Ⅰ, outside is 劣Ⅴ).
import type { Band } from './api';
import type { ClassKey } from './classes';

export interface BandRange {
  class: ClassKey;
  from: number;
  to: number;
}

/**
 * Class bands clipped to [yMin, yMax]. Shared limits (e.g. COD 15 for Ⅰ and Ⅱ) give empty bands,
 * which are dropped; the better class wins there, as in classification.
 */
export function bandRanges(bands: Band[], yMin: number, yMax: number): BandRange[] {
  if (!bands.length) return [];
  const out: BandRange[] = [];
  const push = (c: ClassKey, a: number, b: number) => {
    const lo = Math.max(yMin, Math.min(a, b));
    const hi = Math.min(yMax, Math.max(a, b));
    if (hi > lo) out.push({ class: c, from: lo, to: hi });
  };
  const both = bands.filter((b) => b.lower !== undefined && b.upper !== undefined);
  if (both.length) {
    // pH: one range for Ⅰ, 劣Ⅴ on both sides.
    const b = both[0]!;
    push('WorseThanV', yMin, b.lower!);
    push(b.class, b.lower!, b.upper!);
    push('WorseThanV', b.upper!, yMax);
    return out;
  }
  if (bands.every((b) => b.upper !== undefined)) {
    let prev = Math.min(yMin, 0);
    for (const b of bands) {
      if (b.upper! > prev) push(b.class, prev, b.upper!);
      prev = Math.max(prev, b.upper!);
    }
    push('WorseThanV', prev, yMax);
    return out;
  }
  if (bands.every((b) => b.lower !== undefined)) {
    let prev = Math.max(yMax, bands[0]!.lower!);
    for (const b of bands) {
      if (b.lower! < prev) push(b.class, b.lower!, prev);
      prev = Math.min(prev, b.lower!);
    }
    push('WorseThanV', yMin, prev);
    return out;
  }
  return out;
}

/**
 * A y-axis extent that shows the data plus the class boundary just beyond it, so that a TP line at
 * 0.02 is not squashed against a scale that runs to the Class Ⅴ limit of 0.2.
 */
export function yExtent(bands: Band[], dataMin: number, dataMax: number): { min: number; max: number } {
  const hasData = Number.isFinite(dataMin) && Number.isFinite(dataMax);
  let lo = hasData ? dataMin : 0;
  let hi = hasData ? dataMax : 1;
  const limits = bands.flatMap((b) => [b.lower, b.upper]).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (limits.length) {
    const above = limits.find((l) => l >= hi);
    const below = [...limits].reverse().find((l) => l <= lo);
    hi = above !== undefined ? Math.max(hi, above) : hi;
    if (!hasData) lo = 0;
    if (below !== undefined && bands.some((b) => b.lower !== undefined)) lo = Math.min(lo, below);
    // "≤" limits: start at 0 so that the better classes are visible under the line.
    if (bands.every((b) => b.lower === undefined) && lo >= 0) lo = 0;
  }
  const span = hi - lo || Math.abs(hi) || 1;
  let min = lo - span * 0.08;
  const max = hi + span * 0.1;
  // Concentrations are never negative; only a faulty value (flag D) may be, and then it shows.
  if (min < 0 && lo >= 0) min = 0;
  return { min, max };
}
