import { describe, expect, it } from 'vitest';
import { snapshotOf, type Alert } from '../src/api';

const alert = (details: Record<string, unknown>) => ({ id: 1, rule: 'intrusion', source: 'V01', message: 'm', details }) as unknown as Alert;

describe('snapshotOf', () => {
  it('takes our own snapshot path from details.snapshot', () => {
    const url = '/api/v1/video/snapshots/0123456789abcdef0123456789abcdef';
    expect(snapshotOf(alert({ snapshot: url }))).toBe(url);
  });
  it('refuses anything else (the URL ends up in an <img>)', () => {
    expect(snapshotOf(alert({}))).toBeNull();
    expect(snapshotOf(alert({ snapshot: 42 }))).toBeNull();
    expect(snapshotOf(alert({ snapshot: 'https://evil.example/x.jpg' }))).toBeNull();
    expect(snapshotOf(alert({ snapshot: '/api/v1/video/snapshots/../../admin' }))).toBeNull();
    expect(snapshotOf(alert({ snapshot: 'javascript:alert(1)' }))).toBeNull();
  });
});
