"""A fake database server on 127.0.0.1 that records every byte a client sends it.

It speaks just enough of the PostgreSQL protocol to get a password out of a client: it
declines TLS and GSS encryption, then asks for the password in clear
(AuthenticationCleartextPassword), keeps what comes back, and answers "authentication failed".
Any other client (MySQL, SQL Server, Oracle) is recorded too: a connection and its first bytes.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


class RecordingListener:
    def __init__(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.host = "127.0.0.1"
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.passwords: list[str] = []
        self._received = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"recording-listener-{self.port}", daemon=True)

    # --- what it saw ---------------------------------------------------------------------------
    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    def saw(self, secret: str) -> bool:
        return secret.encode() in self.received or secret in self.passwords

    def assert_untouched(self) -> None:
        assert self.connections == 0 and not self.received, (
            f"the fake server on port {self.port} was contacted: {self.connections} connection(s), "
            f"{len(self.received)} byte(s)"
        )

    # --- serving -------------------------------------------------------------------------------
    def __enter__(self) -> RecordingListener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        deadline = time.monotonic() + 120
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    conn, _addr = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    break
                with self._lock:
                    self.connections += 1
                threading.Thread(target=self._talk, args=(conn,), daemon=True).start()
        finally:
            self._listener.close()

    def _read(self, conn: socket.socket, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            chunk = conn.recv(count - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
            with self._lock:
                self._received += chunk
        return bytes(data)

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            while True:  # TLS / GSS requests first, each declined with one byte
                (length,) = struct.unpack("!I", self._read(conn, 4))
                body = self._read(conn, length - 4)
                (code,) = struct.unpack("!I", body[:4])
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    conn.sendall(b"N")
                    continue
                break  # the StartupMessage
            conn.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
            kind = self._read(conn, 1)
            (length,) = struct.unpack("!I", self._read(conn, 4))
            payload = self._read(conn, length - 4)
            if kind == b"p":
                self.passwords.append(payload.rstrip(b"\0").decode(errors="replace"))
            fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0"
            conn.sendall(b"E" + struct.pack("!I", len(fields) + 4) + fields)
        except (OSError, ConnectionError, struct.error):
            pass
        finally:
            conn.close()
