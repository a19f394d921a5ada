"""Discord's size limits and Paperboy's colour: the numbers every renderer obeys, in one place.

From Discord's API reference (Message and Embed objects, Channel "Start Thread" name limit); the
local server in tests/fakediscord enforces the same numbers independently.
"""

from __future__ import annotations

MESSAGE_LIMIT = 2000  # characters of message content
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_LIMIT = 6000  # characters across all embeds of one message
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
AUTHOR_LIMIT = 256
THREAD_NAME_LIMIT = 100
NONCE_LENGTH = 25
MENTIONED_USERS_LIMIT = 100  # allowed_mentions.users
ACTION_ROWS_PER_MESSAGE = 5  # a message's components: one row of paper buttons per paper
BUTTONS_PER_ROW = 5

EMBED_COLOUR = 0xF5A623  # Paperboy's amber, on every embed it posts or replies with
