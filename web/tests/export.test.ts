import { describe, expect, it } from 'vitest';
import { xlsxBlob } from '../src/export';

describe('Excel export', () => {
  it('writes a real .xlsx (zip) with the Chinese headers', async () => {
    const blob = await xlsxBlob(
      [
        ['时间 (北京时间)', '总磷 (mg/L)', '数据标记'],
        ['2026-11-29 16:00:00', 0.021, 'N'],
        ['2026-11-29 20:00:00', null, 'D'],
      ],
      'W01 总磷',
    );
    const bytes = new Uint8Array(await blob.arrayBuffer());
    expect(String.fromCharCode(bytes[0]!, bytes[1]!)).toBe('PK');
    const { unzipSync, strFromU8 } = await import('fflate');
    const files = unzipSync(bytes);
    expect(Object.keys(files)).toContain('xl/worksheets/sheet1.xml');
    const all = Object.values(files).map((f) => strFromU8(f)).join('\n');
    expect(all).toContain('总磷 (mg/L)');
    expect(all).toContain('0.021');
  });
});
