"""Digest message specs: header, thread name, paper embeds, mentions, DM batches, nonces."""

from __future__ import annotations

from datetime import date

from bot.delivery.digest import DigestEntry
from bot.delivery.messages import (
    MATCHED_LIMIT,
    MESSAGE_LIMIT,
    MessageSpec,
    authors_text,
    dm_messages,
    embed_length,
    header_text,
    is_part,
    nonce_for,
    paper_embed,
    paper_message,
    paper_messages,
    thread_name,
)
from bot.models import Paper

DAY = date(2026, 11, 26)


def entry(pid: str = "2611.00001", title: str = "A *bold* title", users=(), **kw) -> DigestEntry:
    p = Paper(id=pid, title=title, abstract="Abstract.", authors=("Ada", "Alan"), **kw)
    return DigestEntry(p, "We do things.", "diffusion (title)", 1, tuple(users))


def test_header_has_date_count_linked_titles_and_overflow() -> None:
    text = header_text(DAY, [("First", "https://arxiv.org/abs/1"), ("Sec_ond", "https://x/2")], 3)
    lines = text.splitlines()
    assert lines[0] == "📰 **Papers · 26 Nov 2026** — 5 new papers (the top 2 below)"
    assert lines[1] == "1. [First](<https://arxiv.org/abs/1>)"
    assert lines[2] == "2. [Sec\\_ond](<https://x/2>)"
    assert lines[-1] == "+3 more matched — /search finds them"
    assert "1 new paper\n" in header_text(DAY, [("One", "u")], 0) + "\n"


def test_header_never_exceeds_a_message() -> None:
    titles = [("word " * 40, f"https://arxiv.org/abs/2611.{i:05d}") for i in range(100)]
    text = header_text(DAY, titles, 5)
    assert len(text) <= MESSAGE_LIMIT
    assert "more in the thread" in text and text.endswith("+5 more matched — /search finds them")


def test_thread_name() -> None:
    assert thread_name(DAY) == "Papers · 26 Nov 2026"
    assert thread_name(date(2027, 1, 5)) == "Papers · 5 Jan 2027"


def test_paper_text_can_never_mention_anyone() -> None:
    evil = entry(title="Ping @everyone and <@123> and @here")
    spec = paper_message("channel:1", evil)
    assert spec.content == "" and spec.mention_user_ids == ()
    embed = spec.embeds[0]
    assert "@everyone" not in embed["title"] and "<@123>" not in embed["title"]
    header = header_text(DAY, [(evil.paper.title, evil.paper.abs_url)], 0)
    assert "@everyone" not in header and "<@123>" not in header and "@here" not in header


def test_message_mentions_exactly_the_matching_users() -> None:
    spec = paper_message("channel:1", entry(users=(42, 43)))
    assert spec.content == "<@42> <@43>" and spec.mention_user_ids == (42, 43)


def test_embed_fields_and_limits() -> None:
    e = entry(
        title="T" * 400, upvotes=12, code_url="https://github.com/x/y",
        thumbnail="https://cdn/t.png",
    )  # fmt: skip
    embed = paper_embed(e)
    assert len(embed["title"]) <= 256 and embed["url"] == "https://arxiv.org/abs/2611.00001"
    assert embed["title"].endswith("…")
    assert "**Matched:** diffusion (title)" in embed["description"]
    assert embed["fields"][0]["value"] == (
        "[PDF](https://arxiv.org/pdf/2611.00001) · [HF](https://huggingface.co/papers/2611.00001)"
        " · [code](https://github.com/x/y)"
    )
    assert "▲ 12 upvotes" in embed["footer"]["text"]
    assert embed["thumbnail"] == {"url": "https://cdn/t.png"}
    assert embed["author"] == {"name": "Ada, Alan"}
    assert "thumbnail" not in paper_embed(entry())


def test_a_long_why_is_cut_and_leaves_the_summary_its_room() -> None:
    why = ", ".join(f"word{n}_*x* (title, abstract)" for n in range(400))
    e = DigestEntry(entry().paper, "We do things. " * 100, why, 400, ())
    description = paper_embed(e)["description"]
    summary, matched = description.split("\n\n**Matched:** ")
    assert len(description) <= 4096
    assert summary.strip() == e.tldr.strip() and matched.endswith("…")
    assert len(matched) <= 2 * MATCHED_LIMIT  # escaping at most doubles it
    assert not matched.endswith("\\…")  # no escape cut in half


def test_footer_counts_one_upvote_in_the_singular() -> None:
    assert paper_embed(entry(upvotes=1))["footer"]["text"] == "arXiv 2611.00001 · ▲ 1 upvote"
    assert paper_embed(entry(upvotes=2))["footer"]["text"] == "arXiv 2611.00001 · ▲ 2 upvotes"


def test_long_author_lists_become_et_al() -> None:
    assert authors_text(["A", "B", "C", "D"]) == "A et al."
    assert authors_text(["Ada Lovelace", "B" * 90]) == "Ada Lovelace et al."
    assert authors_text(["word " * 30]).endswith("…")
    assert authors_text([]) == ""


def test_nonces_are_short_deterministic_and_distinct() -> None:
    a = paper_message("channel:1", entry("2611.00001")).nonce
    assert a == paper_message("channel:1", entry("2611.00001")).nonce
    assert len(a) <= 25
    assert a != paper_message("channel:2", entry("2611.00001")).nonce
    assert nonce_for("channel:1", 5, "header") != nonce_for("channel:1", 6, "header")


def test_dm_batches_hold_at_most_five_papers_one_button_row_each() -> None:
    # Discord allows 5 action rows a message, and each paper has its row of buttons
    entries = [entry(f"2611.{i:05d}") for i in range(23)]
    specs = dm_messages("dm:9", DAY, entries)
    assert [len(s.embeds) for s in specs] == [5, 5, 5, 5, 3]
    assert [p for s in specs for p in s.paper_ids] == [e.paper.id for e in entries]
    assert specs[0].content.endswith("(1/5)") and len({s.nonce for s in specs}) == 5
    assert all(sum(embed_length(e) for e in s.embeds) <= 6000 for s in specs)


def test_spec_round_trips_through_json() -> None:
    spec = paper_message("channel:1", entry(users=(5,)))
    assert MessageSpec.from_json(spec.to_json()) == spec


def test_120_members_are_each_mentioned_once_in_messages_within_discords_limits() -> None:
    users = [10**17 + i for i in range(120)]  # real snowflakes are 17–19 digits
    specs = paper_messages("channel:1", entry(users=users))
    assert len(specs) >= 2 and specs[0].embeds and not specs[1].embeds
    mentioned = [uid for s in specs for uid in s.mention_user_ids]
    assert sorted(mentioned) == users  # everyone, exactly once
    for spec in specs:
        assert len(spec.content) <= MESSAGE_LIMIT
        assert len(spec.mention_user_ids) <= 100
        assert {f"<@{uid}>" for uid in spec.mention_user_ids} == set(
            spec.content.split()[-len(spec.mention_user_ids) :]
        )
    assert len({s.nonce for s in specs}) == len(specs)  # each message its own nonce
    assert specs[0].paper_ids == ("2611.00001",)
    assert all(is_part(pid) for s in specs[1:] for pid in s.paper_ids)


def test_a_few_members_fit_in_the_paper_message_itself() -> None:
    (only,) = paper_messages("channel:1", entry(users=(5, 6, 5)))
    assert only.mention_user_ids == (5, 6) and only.content == "<@5> <@6>"
