// @ts-check
// The websocket client: a snapshot, then versioned change batches. On a dropped connection it
// reconnects with exponential backoff and jitter, presenting the last version it holds
// (?since=<version>&epoch=<epoch>) so the server sends exactly what was missed. A connection
// that goes quiet for longer than 2.5 heartbeats is considered dead and replaced.

//
// The message types are the server's (src/protocol.ts), checked by `tsc -p tsconfig.public.json`.

/** @typedef {import('../../src/protocol').ServerMessage} ServerMessage */
/** @typedef {import('../../src/protocol').SnapshotMessage} SnapshotMessage */
/** @typedef {import('../../src/protocol').ChangesMessage} ChangesMessage */
/** @typedef {import('../../src/protocol').MovieTable} MovieTable */
/** @typedef {import('../../src/gold-state').MovieRow} MovieRow */
/** A snapshot with its movies decoded into rows. @typedef {Omit<SnapshotMessage, 'movies'> & { movies: MovieRow[] }} LiveSnapshot */
/** A change batch with its movies decoded into rows. @typedef {Omit<ChangesMessage, 'movies'> & { movies: MovieRow[] }} LiveChanges */
/** @typedef {'connecting' | 'live' | 'reconnecting'} LiveState */
/** @typedef {{ delayMs?: number, attempt?: number }} LiveStateDetail */

/**
 * @typedef {object} LiveOptions
 * @property {string} path the websocket path (from /api/config)
 * @property {number} heartbeatMs the server's heartbeat interval
 * @property {(msg: LiveSnapshot) => void} onSnapshot
 * @property {(msg: LiveChanges) => void} onChanges
 * @property {(state: LiveState, detail?: LiveStateDetail) => void} onState
 * @property {(msg: ServerMessage) => void} onMessage every message, before it is applied
 * @property {(alerts: import('../../src/protocol').AlertsMessage['alerts']) => void} [onAlerts] the alerts, whole, on every `alerts` message
 */

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/**
 * Movies travel as {columns, rows}; this turns them back into objects.
 * @param {MovieTable} table
 * @returns {MovieRow[]}
 */
function decodeMovies(table) {
  return table.rows.map(
    (values) =>
      /** @type {MovieRow} */ (
        /** @type {unknown} */ (Object.fromEntries(table.columns.map((c, i) => [c, values[i]])))
      ),
  );
}

/**
 * @param {LiveOptions} options
 * @returns {{ readonly version: number | null, close(): void }}
 */
export function connectLive({ path, heartbeatMs, onSnapshot, onChanges, onState, onMessage, onAlerts }) {
  /** @type {WebSocket | null} */
  let ws = null;
  /** @type {string | null} */
  let epoch = null;
  /** @type {number | null} */
  let version = null;
  let attempt = 0;
  /** @type {number | undefined} */
  let retryTimer = undefined;
  /** @type {number | undefined} */
  let watchdog = undefined;
  let lastMessageAt = 0;

  /** @type {(state: LiveState, detail?: LiveStateDetail) => void} */
  const setState = (state, detail) => onState(state, detail);

  function url() {
    const u = new URL(path, window.location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (epoch !== null && version !== null) {
      u.searchParams.set('since', String(version));
      u.searchParams.set('epoch', epoch);
    }
    return u.toString();
  }

  function scheduleReconnect() {
    if (retryTimer) return;
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    attempt += 1;
    setState('reconnecting', { delayMs: delay, attempt });
    retryTimer = window.setTimeout(() => {
      retryTimer = undefined;
      open();
    }, delay);
  }

  function resync() {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resync' }));
  }

  /** @param {ServerMessage} msg */
  function handle(msg) {
    lastMessageAt = Date.now();
    onMessage(msg);
    if (msg.type === 'snapshot') {
      epoch = msg.epoch;
      version = msg.version;
      attempt = 0;
      setState('live');
      onSnapshot({ ...msg, movies: decodeMovies(msg.movies) });
    } else if (msg.type === 'changes') {
      if (msg.epoch !== epoch || msg.from !== version) {
        resync();
        return;
      }
      version = msg.version;
      attempt = 0;
      setState('live');
      onChanges({ ...msg, movies: decodeMovies(msg.movies) });
    } else if (msg.type === 'alerts') {
      if (onAlerts) onAlerts(msg.alerts);
    } else if (msg.type === 'heartbeat') {
      if (msg.epoch === epoch && msg.version === version) {
        attempt = 0;
        setState('live');
      } else if (msg.epoch !== epoch) {
        resync();
      }
    }
  }

  function open() {
    setState(version === null ? 'connecting' : 'reconnecting', { attempt });
    let socket;
    try {
      socket = new WebSocket(url());
    } catch {
      scheduleReconnect();
      return;
    }
    ws = socket;
    lastMessageAt = Date.now();
    socket.onmessage = (event) => {
      if (socket !== ws) return;
      /** @type {ServerMessage} */
      let msg;
      try {
        msg = JSON.parse(String(event.data));
      } catch {
        return;
      }
      handle(msg);
    };
    socket.onclose = () => {
      if (socket !== ws) return;
      ws = null;
      scheduleReconnect();
    };
    socket.onerror = () => {
      // onclose follows and schedules the reconnect
    };
  }

  watchdog = window.setInterval(
    () => {
      if (ws && ws.readyState === WebSocket.OPEN && Date.now() - lastMessageAt > heartbeatMs * 2.5) {
        const dead = ws;
        ws = null;
        dead.close();
        scheduleReconnect();
      }
    },
    Math.max(1000, Math.round(heartbeatMs / 2)),
  );

  open();
  return {
    get version() {
      return version;
    },
    close() {
      window.clearInterval(watchdog);
      window.clearTimeout(retryTimer);
      if (ws) ws.close();
    },
  };
}
