"""The BrewPi legacy protocol: temperatures, messages, commands and device definitions.

Pure: no I/O. Both our firmware and our controller build on it.
"""
