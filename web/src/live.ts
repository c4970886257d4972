// Server-Sent Events from /api/v1/events. EventSource retries by itself after a dropped
// connection, but gives up for good on an HTTP error (readyState CLOSED); then we reopen it with
// a capped backoff, so a restarted server is picked up without a reload.
import { emit, state, type ObservationEvent } from './store';
import type { Alert } from './api';
import type { components } from './api-schema';

/** `event: observation` as the server sends it (the contract's `ObservationEvent`). */
type ObservationMessage = components['schemas']['ObservationEvent'];

/** The store's observation from the server's message (`time`/`value` → `t`/`v`). */
export function observationFromEvent(m: ObservationMessage): ObservationEvent | null {
  if (m.station === null || m.parameter === null) return null;
  return { datastream_id: m.datastream_id, station: m.station, parameter: m.parameter, t: m.time, v: m.value, flag: m.flag };
}

export function connectLive(url = '/api/v1/events'): () => void {
  let es: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let delay = 1000;
  let stopped = false;

  const setLive = (v: boolean) => {
    if (state.live !== v) {
      state.live = v;
      emit('live', v);
    }
  };

  const open = () => {
    if (stopped) return;
    es = new EventSource(url);
    es.onopen = () => {
      delay = 1000;
      setLive(true);
    };
    es.addEventListener('observation', (e) => {
      try {
        const o = observationFromEvent(JSON.parse((e as MessageEvent).data) as ObservationMessage);
        if (o) emit('observation', o);
      } catch {
        /* a malformed event must not stop the stream */
      }
    });
    es.addEventListener('alert', (e) => {
      try {
        const alert = alertFromEvent(JSON.parse((e as MessageEvent).data));
        if (alert) emit('alert', alert);
      } catch {
        /* ignore */
      }
    });
    es.onerror = () => {
      setLive(false);
      if (es && es.readyState === EventSource.CLOSED) {
        es = null;
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      }
    };
  };

  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    es?.close();
  };
}

/** The alert carried by an `alert` event: the server sends `{"action": …, "alert": {…}}`
 *  (docs/alerts.md); a bare alert object is accepted too. */
export function alertFromEvent(data: unknown): Alert | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as { alert?: unknown; id?: unknown };
  const a = (d.alert && typeof d.alert === 'object' ? d.alert : d) as Partial<Alert>;
  return typeof a.id === 'number' && typeof a.message === 'string' ? (a as Alert) : null;
}
