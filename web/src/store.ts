// The dashboard's shared state: the network (with latest values), the alerts, and a tiny event
// bus so that pages redraw on live events without reloading.
import { getAlerts, getNetwork, type Alert, type Network } from './api';
import { setPalette } from './classes';
import { toDate } from './format';

export interface ObservationEvent {
  datastream_id: number;
  station: string;
  parameter: string;
  t: string;
  v: number | null;
  flag: string | null;
}

type Events = {
  network: Network;
  alerts: Alert[];
  observation: ObservationEvent;
  alert: Alert;
  live: boolean;
};

type Handler<K extends keyof Events> = (payload: Events[K]) => void;

// Handlers are stored untyped; `on`/`emit` keep the payload type per event name.
const handlers = new Map<keyof Events, Set<(p: never) => void>>();

export function on<K extends keyof Events>(k: K, h: Handler<K>): () => void {
  let set = handlers.get(k);
  if (!set) handlers.set(k, (set = new Set()));
  const f = h as (p: never) => void;
  set.add(f);
  return () => set.delete(f);
}

export function emit<K extends keyof Events>(k: K, payload: Events[K]): void {
  handlers.get(k)?.forEach((h) => (h as Handler<K>)(payload));
}

export const state: { network: Network | null; alerts: Alert[]; alertsError: string | null; live: boolean } = {
  network: null,
  alerts: [],
  alertsError: null,
  live: false,
};

export async function loadNetwork(): Promise<Network> {
  const n = await getNetwork();
  setPalette(n.palette);
  state.network = n;
  emit('network', n);
  return n;
}

export async function loadAlerts(): Promise<Alert[]> {
  try {
    state.alerts = await getAlerts();
    state.alertsError = null;
  } catch (e) {
    state.alertsError = String((e as Error).message ?? e);
  }
  emit('alerts', state.alerts);
  return state.alerts;
}

/** Insert or replace an alert by id (the stream sends the whole record on every change). */
export function upsertAlert(list: Alert[], a: Alert): Alert[] {
  const i = list.findIndex((x) => x.id === a.id);
  if (i < 0) return [a, ...list];
  const copy = list.slice();
  copy[i] = a;
  return copy;
}

/** Apply one live observation to the network's latest values; true if something changed. */
export function applyObservation(n: Network, o: ObservationEvent): boolean {
  const st = n.stations.find((s) => s.code === o.station);
  if (!st) return false;
  const lv = st.latest.find((l) => l.datastream_id === o.datastream_id);
  if (lv) {
    if (lv.time && (toDate(o.t)?.getTime() ?? 0) < (toDate(lv.time)?.getTime() ?? 0)) return false; // a backfilled older value
    lv.time = o.t;
    lv.value = o.v;
    lv.flag = o.flag;
    // The class of the new value needs the limits; the periodic network refresh brings it.
  } else {
    const ds = st.datastreams.find((d) => d.id === o.datastream_id);
    if (!ds) return false;
    st.latest.push({ parameter: o.parameter, datastream_id: o.datastream_id, data_kind: ds.data_kind, time: o.t, value: o.v, flag: o.flag, class: null });
  }
  if (st.status) {
    st.status.online = true;
    st.status.last_seen = o.t;
  }
  return true;
}

export function activeAlerts(list: Alert[]): Alert[] {
  return list.filter((a) => a.state !== 'cleared');
}

const SEVERITY_RANK = { critical: 3, major: 2, minor: 1, warning: 0 } as const;

/** Most urgent first, then newest. */
export function sortAlerts(list: Alert[]): Alert[] {
  const time = (a: Alert) => (typeof a.updated_at === 'number' ? a.updated_at : Date.parse(String(a.updated_at)) / 1000) || 0;
  return list.slice().sort((a, b) => {
    const s = (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0);
    if (s) return s;
    const st = Number(a.state === 'cleared') - Number(b.state === 'cleared');
    if (st) return st;
    return time(b) - time(a);
  });
}
