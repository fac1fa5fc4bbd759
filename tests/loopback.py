"""Loopback servers that misbehave: a closed port and a port that accepts and never answers."""

import socket
import threading
import time
from contextlib import contextmanager


def closed_port() -> int:
    """A loopback port nothing listens on: bound to learn a free number, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def silent_server(lifetime: float = 60.0):
    """A listener that accepts connections and never says a word; yields its port.

    The serving thread stops by itself after `lifetime` seconds or when the block ends, and
    closes every socket it accepted, so clients still waiting on it are released too.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve():
        deadline = time.monotonic() + lifetime
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    conn, _addr = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    break
                accepted.append(conn)
        finally:
            for conn in accepted:
                conn.close()
            listener.close()

    thread = threading.Thread(target=serve, name=f"silent-server-{port}", daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(timeout=5)
