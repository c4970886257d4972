// Small DOM helpers: the dashboard is plain TypeScript, no framework (keeps the bundle small).
import { classColour, classLabel, textOn, type ClassKey } from './classes';
import type { Lang } from './i18n';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML: every string from the API goes through this. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** A class chip: the colour and, always next to it, the label (never colour alone). */
export function classChip(c: ClassKey | null, lang: Lang, extra = ''): string {
  const bg = classColour(c);
  return `<span class="chip" style="background:${bg};color:${textOn(bg)}"${extra}>${esc(classLabel(c, lang))}</span>`;
}

export function colourChip(bg: string, text: string): string {
  return `<span class="chip" style="background:${esc(bg)};color:${textOn(bg)}">${esc(text)}</span>`;
}

export function $(root: ParentNode, sel: string): HTMLElement {
  const el = root.querySelector(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el as HTMLElement;
}
