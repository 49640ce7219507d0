#!/usr/bin/env python3
"""Autobahn client driver built on the Python `websockets` library (asyncio client).

A real third-party WebSocket *client* for testing wsspec's server role
(`wsspec serve`) and for the real Autobahn fuzzing server (`wstest -m
fuzzingserver`). Run it with the interpreter of the venv that setup.sh creates.

Driver mode (Autobahn's client-driver URL protocol):

    .venv/bin/python websockets_client.py [--no-deflate] [--agent NAME] BASE_URL

connects to BASE_URL/getCaseCount, then for N = 1..count to
BASE_URL/runCase?case=N&agent=NAME (one case at a time, each echoing every
message until the server closes), then to BASE_URL/updateReports?agent=NAME.

Single-URL mode (for `wsspec serve --exec '... --single {url}'`):

    .venv/bin/python websockets_client.py [--no-deflate] --single URL

connects to URL and echoes every message until the connection closes.

Library defaults everywhere, except:

* compression: the library's default, compression="deflate" (it offers
  permessage-deflate with client_max_window_bits), unless --no-deflate
  (compression=None: nothing offered);
* max_size=64 MiB (the Autobahn 9.x cases send up to 16 MiB), as the echo
  servers beside this file;
* ping_interval=None: no keepalive pings of our own, which would otherwise
  show up in long cases as traffic the case did not ask for;
* every wait is bounded: --open-timeout (handshake), --case-timeout (one
  whole case connection; the connection is then aborted), close_timeout.

Output: one line per case on stderr (`case N: ...` with how it ended);
nothing on stdout except `cases: N` in driver mode. Exit status: 0 the run
went through (verdicts are the server's business), 1 (single mode) the
connection failed or did not close cleanly, 2 usage error or the driver
protocol itself failed (no case count, reports not written).
"""

import argparse
import asyncio
import json
import sys
import time
import urllib.parse

import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

MAX_SIZE = 64 * 1024 * 1024  # 64 MiB


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Options:
    def __init__(self, args: argparse.Namespace) -> None:
        self.compression = None if args.no_deflate else "deflate"
        self.open_timeout = args.open_timeout
        self.case_timeout = args.case_timeout
        self.close_timeout = args.close_timeout

    def connect(self, url: str, open_timeout: float | None = None):
        return connect(
            url,
            compression=self.compression,
            max_size=MAX_SIZE,
            ping_interval=None,
            open_timeout=open_timeout or self.open_timeout,
            close_timeout=self.close_timeout,
        )


class HandshakeTimeout(Exception):
    """The opening handshake did not finish within --open-timeout."""


async def echo(opts: Options, url: str) -> str:
    """Connect to `url` and echo until closed; returns how it ended.

    Raises on a failed handshake (OSError, websockets.InvalidHandshake, ...),
    TimeoutError when the case took longer than --case-timeout.
    """
    try:
        ws = await opts.connect(url)
    except TimeoutError:
        raise HandshakeTimeout(f"no opening handshake within {opts.open_timeout:g} s") from None
    try:
        async with asyncio.timeout(opts.case_timeout):
            try:
                # Iterating yields str for text and bytes for binary messages;
                # send() picks the opcode from the type, so the type is kept.
                async for message in ws:
                    await ws.send(message)
            except ConnectionClosed:
                pass
            # The iterator ends when the closing handshake is over; wait for
            # TCP to be closed too (bounded by close_timeout inside).
            await ws.wait_closed()
    except TimeoutError:
        ws.transport.abort()
        raise
    return describe(ws)


def describe(ws) -> str:
    # The Sans-I/O protocol object under the connection records both closes.
    proto = ws.protocol
    rcvd, sent = proto.close_rcvd, proto.close_sent
    parts = []
    parts.append(f"received close {rcvd.code}" if rcvd else "no close received")
    parts.append(f"sent close {sent.code}" if sent else "no close sent")
    if proto.close_rcvd_then_sent is not None:
        parts.append("server closed first" if proto.close_rcvd_then_sent else "we closed first")
    return ", ".join(parts)


def clean(ws_description: str) -> bool:
    return "no close" not in ws_description


async def text_of(opts: Options, url: str) -> str:
    """The one text message the fuzzing server sends on an info URL."""
    async with opts.connect(url) as ws:
        async with asyncio.timeout(opts.case_timeout):
            message = await ws.recv()
    if not isinstance(message, str):
        raise ValueError(f"{url}: expected a text message, got {len(message)} bytes")
    return message


async def wait_closed(opts: Options, url: str, timeout: float) -> None:
    """Connect and wait (bounded) until the server closes (updateReports).

    wstest writes the reports before it answers the handshake (minutes for a full
    run), so the handshake gets the same limit as the whole request.
    """
    async with opts.connect(url, open_timeout=timeout) as ws:
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await ws.recv()
            except ConnectionClosedOK:
                pass


async def drive(opts: Options, base: str, agent: str, reports_timeout: float) -> int:
    base = base.rstrip("/")
    quoted = urllib.parse.quote(agent, safe="")
    try:
        count = json.loads(await text_of(opts, f"{base}/getCaseCount"))
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"getCaseCount answered {count!r}")
    except Exception as e:  # noqa: BLE001 - any failure here is the driver's end
        log(f"websockets_client: cannot get the case count from {base}: {e!r}")
        return 2
    print(f"cases: {count}", flush=True)
    log(f"websockets_client: websockets {websockets.__version__}, agent {agent!r}, "
        f"compression {opts.compression}, {count} cases")
    started = time.monotonic()
    for n in range(1, count + 1):
        t = time.monotonic()
        try:
            how = await echo(opts, f"{base}/runCase?case={n}&agent={quoted}")
        except TimeoutError:
            how = f"aborted after the {opts.case_timeout:g} s case timeout"
        except Exception as e:  # noqa: BLE001 - a case may break the connection any way
            how = f"failed: {type(e).__name__}: {e}"
        log(f"case {n}: {how} ({time.monotonic() - t:.2f} s)")
    log(f"websockets_client: {count} cases in {time.monotonic() - started:.1f} s; updating reports")
    try:
        await wait_closed(opts, f"{base}/updateReports?agent={quoted}", reports_timeout)
    except Exception as e:  # noqa: BLE001
        log(f"websockets_client: updateReports failed: {e!r}")
        return 2
    return 0


async def single(opts: Options, url: str) -> int:
    try:
        how = await echo(opts, url)
    except TimeoutError:
        log(f"websockets_client: aborted after the {opts.case_timeout:g} s case timeout")
        return 1
    except Exception as e:  # noqa: BLE001 - report whatever ended the connection
        log(f"websockets_client: failed: {type(e).__name__}: {e}")
        return 1
    log(f"websockets_client: {how}")
    return 0 if clean(how) else 1


def positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def main() -> int:
    p = argparse.ArgumentParser(
        description="Autobahn client driver / single-URL echo client on Python websockets")
    p.add_argument("url", help="fuzzing server base URL (driver mode) or a case URL (--single)")
    p.add_argument("--single", action="store_true",
                   help="connect to URL once and echo until closed")
    p.add_argument("--agent", default=f"websockets-{websockets.__version__}",
                   help="agent name reported to the server (driver mode)")
    p.add_argument("--no-deflate", action="store_true",
                   help="do not offer permessage-deflate (default: the library's offer)")
    p.add_argument("--open-timeout", type=positive, default=10.0, metavar="S")
    p.add_argument("--case-timeout", type=positive, default=120.0, metavar="S",
                   help="limit for one whole case connection (default 120)")
    p.add_argument("--close-timeout", type=positive, default=5.0, metavar="S")
    p.add_argument("--reports-timeout", type=positive, default=600.0, metavar="S",
                   help="limit for updateReports, handshake included (default 600)")
    args = p.parse_args()
    if not args.url.startswith(("ws://", "wss://")):
        p.error(f"URL must start with ws:// or wss://, got {args.url!r}")
    opts = Options(args)
    if args.single:
        return asyncio.run(single(opts, args.url))
    return asyncio.run(drive(opts, args.url, args.agent, args.reports_timeout))


if __name__ == "__main__":
    sys.exit(main())
