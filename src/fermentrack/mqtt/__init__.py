"""MQTT with Home Assistant discovery, the pure part: topic names, discovery payloads, the state
payload and the parsing of commands. No Django and no network here: web/mqtt/bridge.py does the
I/O."""
