"""Gravity sensors without the web app: Tilt advertisements, calibration fits, units and data
hygiene (pure: no I/O, no Django), and scanner.py, the process that hears Tilts over Bluetooth
and posts their readings to the web app.
"""
