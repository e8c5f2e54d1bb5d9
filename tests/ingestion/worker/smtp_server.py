"""A loopback SMTP server for the alert tests, speaking just enough SMTP for ``smtplib``.

EHLO, AUTH PLAIN (advertised only when ``credentials`` are given), MAIL, RCPT, DATA, RSET,
NOOP, QUIT; no STARTTLS. ``greeting`` other than 220 makes it refuse every connection.
"""

from __future__ import annotations

import base64
import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.data, policy=policy.default))


@dataclass
class SmtpServer:
    credentials: tuple[str, str] | None = None
    greeting: str = "220 salam-test ESMTP"
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    transcript: list[bytes] = field(default_factory=list)  # every line a client sent

    def __enter__(self) -> SmtpServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    state: SmtpServer


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        state = self.server.state
        self._reply(state.greeting)
        envelope: tuple[str, list[str]] = ("", [])
        while state.greeting.startswith("220") and (line := self.rfile.readline()):
            state.transcript.append(line)
            verb, _, arg = line.decode().strip().partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self._reply("250-salam-test", "250 AUTH PLAIN" if state.credentials else "250 OK")
            elif verb == "AUTH" and state.credentials and arg.upper().startswith("PLAIN "):
                _, user, password = base64.b64decode(arg.split()[1]).decode().split("\0")
                state.logins.append((user, password))
                ok = (user, password) == state.credentials
                self._reply("235 2.7.0 ok" if ok else "535 5.7.8 credentials invalid")
            elif verb == "MAIL":
                envelope = (arg.partition(":")[2].split()[0].strip("<>"), [])
                self._reply("250 OK")
            elif verb == "RCPT":
                envelope[1].append(arg.partition(":")[2].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end with <CRLF>.<CRLF>")
                state.messages.append(Received(*envelope, self._data(state)))
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 5.5.2 not implemented")

    def _data(self, state: SmtpServer) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            state.transcript.append(line)
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)

    def _reply(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())
