"""Push targets, the pure part: what a brewery sends to Brewer's Friend, Brewfather,
Grainfather, ThingSpeak or a generic JSON endpoint (gravity-and-push.md §5), and when.

No Django and no I/O here: `snapshots` are the values sent, `services` turns them into exact
requests and judges the replies, `schedule` works out when a target is next due. The web app's
`pusher` process (web/push) gathers the data, sends and records the results.
"""
