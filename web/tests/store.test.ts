import { describe, expect, it } from 'vitest';
import type { Alert, Network } from '../src/api';
import { activeAlerts, applyObservation, emit, on, sortAlerts, upsertAlert } from '../src/store';
import { latestRows, pickDatastream } from '../src/pages/station';

function net(): Network {
  return {
    id: 'hongfeng', name_zh: '红枫湖', name_en: 'Hongfeng Lake', schematic: true, bbox: null,
    zones: { type: 'FeatureCollection', features: [] }, basins: [], parameters: [], video_points: [],
    stations: [{
      code: 'W01', name_zh: '取水口', name_en: 'Intake', kind: 'intake', water_type: 'lake', basin: 'north', target_class: 'II',
      lon: 106.44, lat: 26.578, status: { online: false, last_seen: null },
      latest: [{ parameter: 'tp', datastream_id: 120, data_kind: 'hourly', time: '2026-11-29T08:00:00Z', value: 0.021, flag: 'N', class: 'II' }],
      class: 'II', meets_target: true,
      datastreams: [{ id: 120, parameter: 'tp', data_kind: 'hourly' }, { id: 121, parameter: 'do', data_kind: 'hourly' }, { id: 122, parameter: 'do', data_kind: 'realtime' }],
    }],
  };
}

const alert = (id: number, severity: Alert['severity'], state: Alert['state'], updated_at: number): Alert => ({
  id, rule: 'exceedance', source: 'W01:tp:hourly', station: 'W01', parameter: 'tp', datastream_id: 120, severity, state,
  acknowledged: state === 'acknowledged', created_at: updated_at, updated_at, message: `a${id}`,
});

describe('live state', () => {
  it('applies observations to the latest values', () => {
    const n = net();
    expect(applyObservation(n, { datastream_id: 120, station: 'W01', parameter: 'tp', t: '2026-11-29T12:00:00Z', v: 0.03, flag: 'N' })).toBe(true);
    expect(n.stations[0]!.latest[0]!.value).toBe(0.03);
    expect(n.stations[0]!.status!.online).toBe(true);
    // an older (backfilled) value does not replace a newer one
    expect(applyObservation(n, { datastream_id: 120, station: 'W01', parameter: 'tp', t: '2026-11-29T04:00:00Z', v: 0.5, flag: 'N' })).toBe(false);
    expect(applyObservation(n, { datastream_id: 121, station: 'W01', parameter: 'do', t: '2026-11-29T12:00:00Z', v: 8, flag: 'C' })).toBe(true);
    expect(n.stations[0]!.latest).toHaveLength(2);
    expect(applyObservation(n, { datastream_id: 9, station: 'X', parameter: 'tp', t: '2026-11-29T12:00:00Z', v: 1, flag: 'N' })).toBe(false);
  });

  it('upserts and sorts alerts: most urgent, open, newest first', () => {
    let list: Alert[] = [];
    list = upsertAlert(list, alert(1, 'minor', 'active', 10));
    list = upsertAlert(list, alert(2, 'critical', 'cleared', 30));
    list = upsertAlert(list, alert(3, 'critical', 'active', 20));
    list = upsertAlert(list, alert(1, 'major', 'acknowledged', 40));
    expect(list).toHaveLength(3);
    expect(sortAlerts(list).map((a) => a.id)).toEqual([3, 2, 1]);
    expect(activeAlerts(list).map((a) => a.id).sort()).toEqual([1, 3]);
  });

  it('delivers events to subscribers until they unsubscribe', () => {
    const got: boolean[] = [];
    const off = on('live', (v) => got.push(v));
    emit('live', true);
    off();
    emit('live', false);
    expect(got).toEqual([true]);
  });

  it('picks the datastream of a chart and one row per parameter', () => {
    const st = net().stations[0]!;
    expect(pickDatastream(st, 'do', 'day')).toBe(122);
    expect(pickDatastream(st, 'do', 'week')).toBe(121);
    expect(pickDatastream(st, 'tp', 'day')).toBe(120);
    expect(pickDatastream(st, 'cod', 'day')).toBeNull();
    expect(latestRows(st).map((r) => r.parameter)).toEqual(['tp']);
  });
});
