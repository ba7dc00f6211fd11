"""The per-device controller process (no Django), and `client.py`, how the web app reaches it."""
