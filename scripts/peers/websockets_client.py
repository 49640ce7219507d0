"""An echo client on Python `websockets`, for testing wsspec as a server.

Usage: websockets_client.py [--fault unmasked] URL

Connects to URL, sends back every message it receives (text as text, binary as
binary) until the connection closes, then exits 0. `websockets` answers pings and
the closing handshake itself.

--fault unmasked sends every frame unmasked, which breaks RFC 6455 §5.1 (a client
masks all its frames). It exists only to prove that wsspec catches such a client.
"""

import argparse
import asyncio
import sys

import websockets
from websockets import frames
from websockets.asyncio.client import connect


def break_masking() -> None:
    serialize = frames.Frame.serialize

    def unmasked(self, *, mask, extensions=None):
        return serialize(self, mask=False, extensions=extensions)

    frames.Frame.serialize = unmasked


async def echo(url: str) -> None:
    async with connect(
        url, compression=None, open_timeout=10, close_timeout=5
    ) as ws:
        async for message in ws:
            await ws.send(message)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--fault", choices=["none", "unmasked"], default="none")
    args = ap.parse_args()
    if args.fault == "unmasked":
        break_masking()
    try:
        asyncio.run(echo(args.url))
    except websockets.exceptions.ConnectionClosed:
        pass
    except (OSError, websockets.exceptions.InvalidHandshake, TimeoutError) as e:
        print(f"websockets_client: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
