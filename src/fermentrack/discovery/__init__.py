"""Finding devices to add: serial ports on this computer and BrewPi firmware on the network.

No Django here: the add-device page and `fermentrack discover` pass in the links already used.
"""
