"""Loopback servers that misbehave: a closed port and a port that accepts and never answers."""

import socket
import threading
from contextlib import contextmanager


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def silent_server(max_seconds: float = 60):
    """Accept connections on 127.0.0.1 and never send a byte; stops by itself."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()
    clients = []

    def serve():
        deadline = threading.Event()
        timer = threading.Timer(max_seconds, deadline.set)
        timer.daemon = True
        timer.start()
        while not stop.is_set() and not deadline.is_set():
            try:
                conn, _addr = server.accept()
                clients.append(conn)
            except OSError:
                continue
        timer.cancel()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for c in clients:
            c.close()
        server.close()
