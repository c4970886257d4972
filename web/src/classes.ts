// GB 3838-2002 functional classes, the grade words of the national method (水质状况) and their
// colours. Source: shared/reference/water-quality.md §5.3. The palette is `wq`'s: the server
// sends it with the network (`palette`), and its default is in the API contract (openapi.json,
// `Palette.default`) for the first paint; no hex value of a class is written here.
import openapi from '../openapi.json';
import type { components } from './api-schema';

/** The class keys the API sends (`ClassKey` of the contract), best first. */
export const CLASS_KEYS = ['I', 'II', 'III', 'IV', 'V', 'WorseThanV'] as const satisfies readonly components['schemas']['ClassKey'][];
export type ClassKey = (typeof CLASS_KEYS)[number];

export type GradeKey = 'excellent' | 'good' | 'slightly_polluted' | 'moderately_polluted' | 'heavily_polluted' | 'no_data';

/** The class palette in force: the contract's default until the network brings the server's. */
export const CLASS_COLOURS: Record<ClassKey | 'none', string> = { ...openapi.components.schemas.Palette.default };

/** Roman numerals as printed in the standard. */
export const ROMAN: Record<ClassKey, string> = { I: 'Ⅰ', II: 'Ⅱ', III: 'Ⅲ', IV: 'Ⅳ', V: 'Ⅴ', WorseThanV: '劣Ⅴ' };
const ROMAN_EN: Record<ClassKey, string> = { I: 'I', II: 'II', III: 'III', IV: 'IV', V: 'V', WorseThanV: 'worse than V' };

/** Accepts the API's keys and the printed forms (Ⅲ, 劣Ⅴ, VI); anything else is "no class". */
export function parseClass(v: unknown): ClassKey | null {
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if ((CLASS_KEYS as readonly string[]).includes(s)) return s as ClassKey;
  const fromRoman = (Object.keys(ROMAN) as ClassKey[]).find((k) => ROMAN[k] === s);
  if (fromRoman) return fromRoman;
  if (s === 'VI' || s === '劣V' || s === 'worse_than_v') return 'WorseThanV';
  return null;
}

/** Rank for comparisons: greater is worse. */
export function classRank(c: ClassKey): number {
  return CLASS_KEYS.indexOf(c);
}

/** The worse of two classes (null = no data, never worse than a measured class). */
export function worseClass(a: ClassKey | null, b: ClassKey | null): ClassKey | null {
  if (a === null) return b;
  if (b === null) return a;
  return classRank(a) >= classRank(b) ? a : b;
}

/** 水质状况 of a single station class (§5.3): Ⅰ–Ⅱ 优, Ⅲ 良好, Ⅳ 轻度, Ⅴ 中度, 劣Ⅴ 重度污染. */
export function gradeOfClass(c: ClassKey | null): GradeKey {
  switch (c) {
    case 'I':
    case 'II':
      return 'excellent';
    case 'III':
      return 'good';
    case 'IV':
      return 'slightly_polluted';
    case 'V':
      return 'moderately_polluted';
    case 'WorseThanV':
      return 'heavily_polluted';
    default:
      return 'no_data';
  }
}

/** The colour of a grade word for multi-station results (优 takes the class Ⅱ blue, as `wq` does). */
export const GRADE_COLOURS: Record<GradeKey, string> = gradeColours();

function gradeColours(): Record<GradeKey, string> {
  return {
    excellent: CLASS_COLOURS.II,
    good: CLASS_COLOURS.III,
    slightly_polluted: CLASS_COLOURS.IV,
    moderately_polluted: CLASS_COLOURS.V,
    heavily_polluted: CLASS_COLOURS.WorseThanV,
    no_data: CLASS_COLOURS.none,
  };
}

/** Takes the server's palette (`Network.palette`); every later colour lookup uses it. */
export function setPalette(palette: components['schemas']['Palette']): void {
  Object.assign(CLASS_COLOURS, palette);
  Object.assign(GRADE_COLOURS, gradeColours());
}

export function classColour(c: ClassKey | null): string {
  return c === null ? CLASS_COLOURS.none : CLASS_COLOURS[c];
}

/** "Ⅲ类" / "Class III": the short label shown next to every colour. */
export function classLabel(c: ClassKey | null, lang: 'zh' | 'en'): string {
  if (c === null) return lang === 'zh' ? '无数据' : 'no data';
  return lang === 'zh' ? `${ROMAN[c]}类` : c === 'WorseThanV' ? 'Worse than V' : `Class ${ROMAN_EN[c]}`;
}

/** Text colour readable on a class colour (the palette mixes very light and saturated fills). */
export function textOn(bg: string): string {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(bg);
  if (!m) return '#000';
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => parseInt(h!, 16) / 255) as [number, number, number];
  const lin = (u: number) => (u <= 0.03928 ? u / 12.92 : ((u + 0.055) / 1.055) ** 2.4);
  const lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  // WCAG contrast against black (lum+0.05)/0.05 vs white 1.05/(lum+0.05): pick the larger.
  return (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) ? '#000' : '#fff';
}

/** Trophic-state colours (reference §10.3, a project choice, not official). */
export const TROPHIC_COLOURS: Record<string, string> = {
  oligotrophic: '#1E88E5',
  mesotrophic: '#43A047',
  light_eutrophic: '#FDD835',
  middle_eutrophic: '#FB8C00',
  hyper_eutrophic: '#E53935',
};

/** Trophic state of a TLI(Σ) value graded on its 2-decimal value (总站 boundaries, §10.3). */
export function trophicState(tli: number): keyof typeof TROPHIC_COLOURS {
  const v = Math.round(tli * 100) / 100;
  if (v < 30) return 'oligotrophic';
  if (v <= 50) return 'mesotrophic';
  if (v <= 60) return 'light_eutrophic';
  if (v <= 70) return 'middle_eutrophic';
  return 'hyper_eutrophic';
}
