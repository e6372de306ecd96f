// The websocket client: a snapshot, then versioned change batches. On a dropped connection it
// reconnects with exponential backoff and jitter, presenting the last version it holds
// (?since=<version>&epoch=<epoch>) so the server sends exactly what was missed. A connection
// that goes quiet for longer than 2.5 heartbeats is considered dead and replaced.

const MIN_DELAY_MS = 500;

/** Movies travel as {columns, rows}; this turns them back into objects. */
function decodeMovies(table) {
  return table.rows.map((values) => Object.fromEntries(table.columns.map((c, i) => [c, values[i]])));
}
const MAX_DELAY_MS = 10_000;

export function connectLive({ path, heartbeatMs, onSnapshot, onChanges, onState, onMessage }) {
  let ws = null;
  let epoch = null;
  let version = null;
  let attempt = 0;
  let retryTimer = null;
  let watchdog = null;
  let lastMessageAt = 0;

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
    retryTimer = setTimeout(() => {
      retryTimer = null;
      open();
    }, delay);
  }

  function resync() {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resync' }));
  }

  function handle(msg) {
    lastMessageAt = Date.now();
    onMessage(msg);
    if (msg.type === 'snapshot') {
      msg.movies = decodeMovies(msg.movies);
      epoch = msg.epoch;
      version = msg.version;
      attempt = 0;
      setState('live');
      onSnapshot(msg);
    } else if (msg.type === 'changes') {
      if (msg.epoch !== epoch || msg.from !== version) {
        resync();
        return;
      }
      version = msg.version;
      attempt = 0;
      setState('live');
      msg.movies = decodeMovies(msg.movies);
      onChanges(msg);
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
      let msg;
      try {
        msg = JSON.parse(event.data);
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

  watchdog = setInterval(
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
      clearTimeout(retryTimer);
      if (ws) ws.close();
    },
  };
}
