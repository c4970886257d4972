import { describe, expect, it } from 'vitest';
import { CLASS_COLOURS, CLASS_KEYS, classColour, classLabel, gradeOfClass, GRADE_COLOURS, parseClass, textOn, trophicState, worseClass } from '../src/classes';

describe('class colours (water-quality.md §5.3, default palette)', () => {
  it('uses the official palette', () => {
    expect(CLASS_COLOURS).toEqual({
      I: '#CCFFFF',
      II: '#00CCFF',
      III: '#00FF00',
      IV: '#FFFF00',
      V: '#FF9B00',
      WorseThanV: '#FF0000',
      none: '#ABABAB',
    });
    expect(classColour(null)).toBe('#ABABAB');
  });

  it('maps classes to the grade words of the national method', () => {
    expect(CLASS_KEYS.map(gradeOfClass)).toEqual(['excellent', 'excellent', 'good', 'slightly_polluted', 'moderately_polluted', 'heavily_polluted']);
    expect(gradeOfClass(null)).toBe('no_data');
    // Colour words: 优 blue, 良好 green, 轻度 yellow, 中度 orange, 重度 red.
    expect(GRADE_COLOURS.excellent).toBe('#00CCFF');
    expect(GRADE_COLOURS.good).toBe('#00FF00');
    expect(GRADE_COLOURS.heavily_polluted).toBe('#FF0000');
  });

  it('labels classes as printed in the standard', () => {
    expect(classLabel('III', 'zh')).toBe('Ⅲ类');
    expect(classLabel('WorseThanV', 'zh')).toBe('劣Ⅴ类');
    expect(classLabel('II', 'en')).toBe('Class II');
    expect(classLabel('WorseThanV', 'en')).toBe('Worse than V');
    expect(classLabel(null, 'zh')).toBe('无数据');
  });

  it('parses API keys and printed forms', () => {
    expect(parseClass('III')).toBe('III');
    expect(parseClass('Ⅱ')).toBe('II');
    expect(parseClass('劣Ⅴ')).toBe('WorseThanV');
    expect(parseClass('VI')).toBe('WorseThanV');
    expect(parseClass('X')).toBeNull();
    expect(parseClass(3)).toBeNull();
  });

  it('orders classes, worse wins', () => {
    expect(worseClass('II', 'IV')).toBe('IV');
    expect(worseClass('WorseThanV', 'I')).toBe('WorseThanV');
    expect(worseClass(null, 'III')).toBe('III');
    expect(worseClass(null, null)).toBeNull();
  });

  it('picks a readable text colour on every class colour', () => {
    expect(textOn('#CCFFFF')).toBe('#000');
    expect(textOn('#FFFF00')).toBe('#000');
    expect(textOn('#00FF00')).toBe('#000');
    expect(textOn('#10324f')).toBe('#fff');
  });

  it('grades TLI on the 总站 boundaries (upper limits inclusive)', () => {
    expect(trophicState(29.99)).toBe('oligotrophic');
    expect(trophicState(30)).toBe('mesotrophic');
    expect(trophicState(50)).toBe('mesotrophic');
    expect(trophicState(50.004)).toBe('mesotrophic'); // graded on the 2-decimal value
    expect(trophicState(50.01)).toBe('light_eutrophic');
    expect(trophicState(60)).toBe('light_eutrophic');
    expect(trophicState(70)).toBe('middle_eutrophic');
    expect(trophicState(70.01)).toBe('hyper_eutrophic');
  });
});
