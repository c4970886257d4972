import { describe, expect, it } from 'vitest';
import { DICTS, detectLang, en, flagLabel, nameOf, zh } from '../src/i18n';

describe('i18n', () => {
  it('has every key in both languages, none empty', () => {
    const zk = Object.keys(zh).sort();
    const ek = Object.keys(en).sort();
    expect(ek).toEqual(zk);
    for (const l of ['zh', 'en'] as const) {
      for (const k of zk) expect(DICTS[l][k as keyof typeof zh].trim(), `${l}.${k}`).not.toBe('');
    }
  });

  it('keeps the languages apart: Chinese text in zh, no CJK in en', () => {
    const cjk = /[\u4e00-\u9fff]/;
    // The switch button names the *other* language, so it is the one allowed exception.
    for (const [k, v] of Object.entries(en)) if (k !== 'lang_switch') expect(cjk.test(v), `en.${k} = ${v}`).toBe(false);
    const zhWithCjk = Object.entries(zh).filter(([, v]) => cjk.test(v)).length;
    expect(zhWithCjk / Object.keys(zh).length).toBeGreaterThan(0.9);
  });

  it('uses the national method words', () => {
    expect(zh.state_active).toBe('未确认');
    expect(zh.method_proportion_method).toBe('断面水质类别比例法');
    expect(zh.exceedance_multiple).toBe('超标倍数');
    expect(zh.main_pollutants).toBe('主要污染指标');
    expect(zh.tli).toContain('综合营养状态指数');
  });

  it('prefers Chinese when the browser does, English otherwise', () => {
    expect(detectLang(['zh-CN', 'en'], null)).toBe('zh');
    expect(detectLang(['zh-TW'], null)).toBe('zh');
    expect(detectLang(['en-US', 'zh-CN'], null)).toBe('en');
    expect(detectLang(['fr-FR', 'de'], null)).toBe('en');
    expect(detectLang(['fr-FR', 'zh'], null)).toBe('zh');
    expect(detectLang(['zh-CN'], 'en')).toBe('en');
    expect(detectLang(['en'], 'zh')).toBe('zh');
    expect(detectLang(['en'], 'xx')).toBe('en');
  });

  it('names HJ 212 data flags in both languages', () => {
    for (const f of ['N', 'F', 'M', 'S', 'D', 'C', 'T', 'B']) {
      expect(flagLabel(f, 'zh')).not.toBe(flagLabel('Q', 'zh'));
      expect(flagLabel(f, 'en')).not.toBe('');
    }
    expect(flagLabel('D', 'zh')).toBe('故障');
    expect(flagLabel('T', 'en')).toBe('above measuring range');
    expect(flagLabel('Q', 'en')).toBe('undefined flag');
    expect(flagLabel(null, 'en')).toBe('');
  });

  it('picks names by language with a fallback', () => {
    expect(nameOf({ name_zh: '总磷', name_en: 'Total phosphorus' }, 'zh')).toBe('总磷');
    expect(nameOf({ name_zh: '总磷', name_en: 'Total phosphorus' }, 'en')).toBe('Total phosphorus');
    expect(nameOf({ name_zh: '', name_en: 'TP' }, 'zh')).toBe('TP');
    expect(nameOf(undefined, 'zh')).toBe('');
  });
});
