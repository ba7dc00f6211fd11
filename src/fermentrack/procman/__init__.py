"""The process stack: circus and its configuration, the spawner, the cron verbs, nginx and
systemd. Knows process names and paths, nothing of the BrewPi protocol (ARCHITECTURE.md)."""
