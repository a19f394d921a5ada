"""Getting papers to people exactly once (Discord-free): what a digest holds (`planner`,
`digest`), the messages that carry it (`messages`), the ledger-driven engine that posts them
(`engine`, `dms`), and the `Poster` interface Discord is reached through (`posting`)."""
