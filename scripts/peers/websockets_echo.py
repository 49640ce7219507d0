#!/usr/bin/env python3
"""Echo server built on the Python `websockets` library (asyncio API).

A real third-party peer for wsspec's tests. Run it with the interpreter of
the venv that setup.sh creates:

    scripts/peers/.venv/bin/python scripts/peers/websockets_echo.py PORT [--deflate]

PORT 0 picks an ephemeral port. Once listening, the server prints exactly one
line, ``LISTENING <port>``, to stdout and then runs until SIGTERM or SIGINT,
on which it closes open connections (1001) and exits with status 0.

Configuration mirrors the websockets project's own Autobahn compliance echo
server: library defaults everywhere (ping/pong, keepalive, UTF-8 checks,
close handling, flow control), except:

* compression=None: no permessage-deflate is negotiated (with --deflate,
  compression="deflate": the library's default permessage-deflate settings);
* max_size=64 MiB: large enough for the Autobahn 9.x cases (up to 16 MiB);
* no subprotocols are offered or selected;
* bound to 127.0.0.1 only.
"""

import asyncio
import logging
import signal
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import WebSocketException

HOST = "127.0.0.1"
MAX_SIZE = 64 * 1024 * 1024  # 64 MiB, same as ws_echo.js's maxPayload


async def echo(ws: ServerConnection) -> None:
    # Iterating yields str for text messages and bytes for binary ones, and
    # send() picks the opcode from that type, so the message type is kept.
    try:
        async for message in ws:
            await ws.send(message)
    except WebSocketException:
        # The peer broke the protocol or went away mid-message; the library
        # has already failed the connection. Nothing to log.
        pass


async def main(port: int, deflate: bool) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def request_stop() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop)

    async with serve(
        echo,
        HOST,
        port,
        compression="deflate" if deflate else None,
        max_size=MAX_SIZE,
    ) as server:
        bound = server.sockets[0].getsockname()[1]
        print(f"LISTENING {bound}", flush=True)
        await stop


def parse_args(argv: list[str]) -> tuple[int, bool]:
    usage = f"usage: {argv[0]} [PORT [--deflate]]   (0 or omitted = ephemeral)"
    args = argv[1:]
    deflate = len(args) == 2 and args[1] == "--deflate"
    if len(args) > 2 or (len(args) == 2 and not deflate):
        sys.exit(usage)
    try:
        port = int(args[0]) if args else 0
    except ValueError:
        sys.exit(f"{argv[0]}: PORT must be an integer, got {args[0]!r}")
    if not 0 <= port <= 65535:
        sys.exit(f"{argv[0]}: PORT out of range: {port}")
    return port, deflate


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(*parse_args(sys.argv)))
