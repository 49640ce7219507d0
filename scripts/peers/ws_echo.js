#!/usr/bin/env node
// Echo server built on the Node `ws` library.
//
// A real third-party peer for wsspec's tests. After scripts/peers/setup.sh:
//
//     node scripts/peers/ws_echo.js PORT [--deflate]
//
// PORT 0 (or omitted) picks an ephemeral port. Once listening, the server
// prints exactly one line, "LISTENING <port>", to stdout and then runs until
// SIGTERM or SIGINT, on which it closes open connections (1001) and exits 0.
//
// Library defaults everywhere, except: no permessage-deflate (with --deflate,
// ws's default permessage-deflate settings), 64 MiB maxPayload, UTF-8
// validation on, no subprotocol handling, 127.0.0.1 only.
'use strict';

const { WebSocketServer } = require('ws');

const HOST = '127.0.0.1';
const MAX_PAYLOAD = 64 * 1024 * 1024; // 64 MiB, same as websockets_echo.py's max_size

function parsePort(argv) {
  const usage = `usage: ${argv[1]} [PORT [--deflate]]   (0 or omitted = ephemeral)`;
  if (argv.length > 4 || (argv.length === 4 && argv[3] !== '--deflate')) fail(usage);
  if (argv.length < 3) return 0;
  if (!/^\d+$/.test(argv[2])) fail(`ws_echo.js: PORT must be an integer, got ${JSON.stringify(argv[2])}`);
  const port = Number(argv[2]);
  if (port > 65535) fail(`ws_echo.js: PORT out of range: ${port}`);
  return port;
}

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}

const wss = new WebSocketServer({
  host: HOST,
  port: parsePort(process.argv),
  perMessageDeflate: process.argv[3] === '--deflate',
  maxPayload: MAX_PAYLOAD,
  skipUTF8Validation: false,
  // By default ws accepts the first subprotocol a client offers; this echo
  // server offers none, so never put Sec-WebSocket-Protocol in the response.
  handleProtocols: () => false,
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  // Protocol errors (bad UTF-8, oversized payload, bad framing, ...) make ws
  // close the connection with the right code and emit 'error'; without a
  // listener that would crash the whole server.
  ws.on('error', () => {});
});

wss.on('listening', () => {
  process.stdout.write(`LISTENING ${wss.address().port}\n`);
});

wss.on('error', (err) => {
  fail(`ws_echo.js: ${err.message}`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  for (const client of wss.clients) client.close(1001, 'server shutting down');
  // Give close handshakes a moment, then drop whatever is left.
  const timer = setTimeout(() => {
    for (const client of wss.clients) client.terminate();
  }, 1000);
  timer.unref();
  wss.close(() => process.exit(0));
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
