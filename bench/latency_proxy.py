"""A TCP proxy that adds latency, to make local database servers look like they are across a WAN.

Each listener accepts on 127.0.0.1 (an ephemeral port) and forwards to one upstream server.
Every chunk read from either side is held for `delay` seconds before it is written to the
other side, in order: a pipe with a fixed one-way latency (a round trip costs 2 x delay),
not a bandwidth limit. Chunks arriving while earlier ones wait are not delayed any further.

Run as a program it serves one listener per upstream given on the command line, prints one
JSON line `{"ports": [...]}` once every listener is up, and stops when its stdin closes (so it
never outlives the process that started it) or on SIGTERM/SIGINT:

    python bench/latency_proxy.py --delay-ms 25 127.0.0.1:3306 127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy one direction of a connection, each chunk `delay` seconds late, order kept."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read_side():
        while True:
            data = await reader.read(65536)
            pending.put_nowait((loop.time() + delay, data))
            if not data:  # EOF travels with the same latency as the data before it
                return

    async def write_side():
        while True:
            due, data = await pending.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    tasks = [asyncio.create_task(read_side()), asyncio.create_task(write_side())]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


class LatencyProxy:
    """One listener forwarding to `upstream_host:upstream_port` with `delay` seconds each way."""

    def __init__(self, upstream_host: str, upstream_port: int, delay: float):
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.delay = delay
        self.server: asyncio.AbstractServer | None = None
        self.active: set[asyncio.Task] = set()
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, host="127.0.0.1", port=0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.active.add(task)
        try:
            await self._relay(client_reader, client_writer)
        except asyncio.CancelledError:
            pass  # the proxy is shutting down: the connection simply ends
        finally:
            self.active.discard(task)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        except OSError:
            client_writer.close()
            return
        directions = [
            asyncio.create_task(_pump(client_reader, up_writer, self.delay)),
            asyncio.create_task(_pump(up_reader, client_writer, self.delay)),
        ]
        try:
            # Both halves end normally on EOF; a reset on either side ends the whole connection.
            await asyncio.wait(directions, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in directions:
                if task.done() and not task.cancelled():
                    task.exception()  # a peer's reset is an ordinary end here, not an error to log
                task.cancel()
            for writer in (client_writer, up_writer):
                writer.close()
            for writer in (client_writer, up_writer):
                with contextlib.suppress(OSError, asyncio.CancelledError):
                    await writer.wait_closed()

    async def close(self) -> None:
        """Stop listening and end the connections still open."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        if os.environ.get("LATENCY_PROXY_DEBUG"):
            print(f"proxy {self.port}->{self.upstream_port}: {len(self.active)} open at close", file=sys.stderr)
        for task in list(self.active):
            task.cancel()
        await asyncio.gather(*self.active, return_exceptions=True)


def _parse_upstream(text: str) -> tuple[str, int]:
    host, _sep, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


async def _serve(upstreams: list[tuple[str, int]], delay: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    proxies = [LatencyProxy(host, port, delay) for host, port in upstreams]
    for proxy in proxies:
        await proxy.start()
    print(json.dumps({"ports": [p.port for p in proxies]}), flush=True)

    # The parent keeps our stdin open for as long as it wants us; EOF means "stop". A daemon
    # thread, so a stop by signal does not wait for a read that may never return.
    def watch_stdin():
        # os.read on the descriptor, not sys.stdin: a buffered read would hold the stream's lock
        # and upset interpreter shutdown when a signal stops us first.
        while os.read(sys.stdin.fileno(), 4096):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    await stop.wait()
    for proxy in proxies:
        await proxy.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=25.0, help="one-way latency per chunk (default 25)")
    parser.add_argument("upstreams", nargs="+", type=_parse_upstream, metavar="HOST:PORT")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.upstreams, args.delay_ms / 1000.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
