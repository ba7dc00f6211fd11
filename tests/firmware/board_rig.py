"""A board on simulated hardware whose output is captured, for tests that talk to it."""

from __future__ import annotations

from fermentrack.brewpi.messages import decode_wire_text
from fermentrack.firmware.board import Board


class CapturedBoard:
    """A board plus the lines it wrote, for tests that talk to it like a controller would."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self._buffer = bytearray()
        board.attach_output(self._buffer.extend)

    def lines(self) -> list[str]:
        """Every complete line written since the last call, without CR LF."""
        text = decode_wire_text(bytes(self._buffer))
        self._buffer.clear()
        assert text == "" or text.endswith("\r\n"), f"incomplete line in output: {text!r}"
        return text.split("\r\n")[:-1] if text else []

    def ask(self, command: str | bytes) -> list[str]:
        self.lines()
        self.board.receive(command if isinstance(command, bytes) else command.encode())
        return self.lines()

    def run(self, seconds: int) -> list[str]:
        for _ in range(seconds):
            self.board.tick()
        return self.lines()
