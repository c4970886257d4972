import { describe, expect, it } from 'vitest';
import { alertFromEvent } from '../src/live';

describe('alert events', () => {
  const alert = { id: 7, message: 'W01 total phosphorus 0.03 mg/L is Class III', severity: 'major', state: 'active' };

  it('unwraps the server shape {action, alert}', () => {
    expect(alertFromEvent({ action: 'raised', alert })).toEqual(alert);
  });

  it('accepts a bare alert', () => {
    expect(alertFromEvent(alert)).toEqual(alert);
  });

  it('drops what is not an alert', () => {
    expect(alertFromEvent({ action: 'raised' })).toBeNull();
    expect(alertFromEvent(null)).toBeNull();
    expect(alertFromEvent('x')).toBeNull();
  });
});
