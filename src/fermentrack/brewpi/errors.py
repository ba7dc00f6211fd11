"""The one error type the protocol package raises."""


class ProtocolError(ValueError):
    """A line, command or value that does not follow the BrewPi protocol.

    The message says what was wrong and what was expected.
    """
