#!/usr/bin/env node
// Autobahn client driver built on the Node `ws` library (its WebSocket client).
//
// A real third-party WebSocket *client* for testing wsspec's server role
// (`wsspec serve`) and for the real Autobahn fuzzing server (`wstest -m
// fuzzingserver`). After scripts/peers/setup.sh:
//
// Driver mode (Autobahn's client-driver URL protocol):
//
//     node ws_client.js [--no-deflate] [--agent NAME] BASE_URL
//
// connects to BASE_URL/getCaseCount, then for N = 1..count to
// BASE_URL/runCase?case=N&agent=NAME (one case at a time, each echoing every
// message until the server closes), then to BASE_URL/updateReports?agent=NAME.
//
// Single-URL mode (for `wsspec serve --exec 'node ws_client.js --single {url}'`):
//
//     node ws_client.js [--no-deflate] --single URL
//
// connects to URL and echoes every message until the connection closes.
//
// Library defaults everywhere, except:
// - permessage-deflate: the client's default, perMessageDeflate: true (it offers
//   permessage-deflate with client_max_window_bits), unless --no-deflate
//   (perMessageDeflate: false: nothing offered);
// - maxPayload 64 MiB (the Autobahn 9.x cases send up to 16 MiB), as the echo
//   servers beside this file;
// - every wait is bounded: --open-timeout (handshakeTimeout), --case-timeout (one
//   whole case connection; the socket is then terminated).
//
// Output: one line per case on stderr ("case N: ..." with how it ended); nothing
// on stdout except "cases: N" in driver mode. Exit status: 0 the run went through
// (verdicts are the server's business), 1 (single mode) the connection failed or
// did not close cleanly, 2 usage error or the driver protocol itself failed (no
// case count, reports not written).
'use strict';

const WebSocket = require('ws');
const { version } = require('ws/package.json');

const MAX_PAYLOAD = 64 * 1024 * 1024; // 64 MiB

function usage(message) {
  process.stderr.write(
    `ws_client.js: ${message}\n` +
      'usage: node ws_client.js [--no-deflate] [--agent NAME] [--open-timeout S]\n' +
      '           [--case-timeout S] [--reports-timeout S] BASE_URL\n' +
      '       node ws_client.js [--no-deflate] [--open-timeout S] [--case-timeout S] --single URL\n'
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    single: false,
    agent: `ws-${version}`,
    deflate: true,
    openTimeout: 10,
    caseTimeout: 120,
    reportsTimeout: 600,
    url: null,
  };
  const seconds = (name, text) => {
    const v = Number(text);
    if (!(v > 0) || !Number.isFinite(v)) usage(`${name} needs seconds > 0, got ${JSON.stringify(text)}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--single': o.single = true; break;
      case '--no-deflate': o.deflate = false; break;
      case '--agent': o.agent = value(); break;
      case '--open-timeout': o.openTimeout = seconds(a, value()); break;
      case '--case-timeout': o.caseTimeout = seconds(a, value()); break;
      case '--reports-timeout': o.reportsTimeout = seconds(a, value()); break;
      default:
        if (a.startsWith('-') || o.url !== null) usage(`unexpected argument ${JSON.stringify(a)}`);
        o.url = a;
    }
  }
  if (o.url === null) usage('a URL is required');
  if (!/^wss?:\/\//.test(o.url)) usage(`URL must start with ws:// or wss://, got ${JSON.stringify(o.url)}`);
  return o;
}

function log(message) {
  process.stderr.write(message + '\n');
}

function open(o, url, openTimeout = o.openTimeout) {
  return new WebSocket(url, {
    perMessageDeflate: o.deflate,
    maxPayload: MAX_PAYLOAD,
    handshakeTimeout: openTimeout * 1000,
  });
}

// Connect to `url`, echo every message, resolve with how the connection ended
// once the socket is closed (or terminated after `limit` seconds). `openTimeout`
// bounds the handshake (updateReports: wstest writes the reports before it answers
// the handshake, which takes minutes for a full run).
function echo(o, url, limit = o.caseTimeout, openTimeout = o.openTimeout) {
  return new Promise((resolve) => {
    const ws = open(o, url, openTimeout);
    let error = null;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ws.terminate();
    }, limit * 1000);
    ws.on('message', (data, isBinary) => {
      // `data` is the reassembled message; keep its type.
      ws.send(data, { binary: isBinary });
    });
    ws.on('error', (err) => {
      // Protocol errors make ws close the connection itself (with the right
      // code) and then emit 'close'; keep the first error for the log.
      if (error === null) error = err;
    });
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      let how = `closed with code ${code}`;
      if (reason.length > 0) how += ` (${JSON.stringify(reason.toString())})`;
      if (timedOut) how = `terminated after the ${limit} s case timeout`;
      if (error !== null) how += `; error: ${error.message}`;
      // 1005 / 1006 are what ws reports for "no code" / "no close frame".
      resolve({ how, clean: !timedOut && error === null && code !== 1006 });
    });
  });
}

// The one text message the fuzzing server sends on an info URL.
function textOf(o, url) {
  return new Promise((resolve, reject) => {
    const ws = open(o, url);
    let text = null;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no answer within ${o.caseTimeout} s`));
    }, o.caseTimeout * 1000);
    ws.on('message', (data, isBinary) => {
      if (text === null && !isBinary) text = data.toString();
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => {
      clearTimeout(timer);
      if (text === null) reject(new Error('closed without a text message'));
      else resolve(text);
    });
  });
}

async function drive(o) {
  const base = o.url.replace(/\/+$/, '');
  const agent = encodeURIComponent(o.agent);
  let count;
  try {
    count = JSON.parse(await textOf(o, `${base}/getCaseCount`));
    if (!Number.isInteger(count) || count < 0) throw new Error(`getCaseCount answered ${JSON.stringify(count)}`);
  } catch (err) {
    log(`ws_client.js: cannot get the case count from ${base}: ${err.message}`);
    return 2;
  }
  process.stdout.write(`cases: ${count}\n`);
  log(`ws_client.js: ws ${version}, agent ${JSON.stringify(o.agent)}, perMessageDeflate ${o.deflate}, ${count} cases`);
  const started = Date.now();
  for (let n = 1; n <= count; n++) {
    const t = Date.now();
    const { how } = await echo(o, `${base}/runCase?case=${n}&agent=${agent}`);
    log(`case ${n}: ${how} (${((Date.now() - t) / 1000).toFixed(2)} s)`);
  }
  log(`ws_client.js: ${count} cases in ${((Date.now() - started) / 1000).toFixed(1)} s; updating reports`);
  const { how, clean } = await echo(
    o,
    `${base}/updateReports?agent=${agent}`,
    o.reportsTimeout,
    o.reportsTimeout
  );
  if (!clean) {
    log(`ws_client.js: updateReports: ${how}`);
    return 2;
  }
  return 0;
}

async function single(o) {
  const { how, clean } = await echo(o, o.url);
  log(`ws_client.js: ${how}`);
  return clean ? 0 : 1;
}

const o = parseArgs(process.argv.slice(2));
(o.single ? single(o) : drive(o)).then(
  (status) => process.exit(status),
  (err) => {
    log(`ws_client.js: ${err.stack || err}`);
    process.exit(2);
  }
);
