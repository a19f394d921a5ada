"""The reading list's exports: BibTeX entries (keys, fields, LaTeX's special characters escaped)
and the Markdown list."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.reading_exports import bibtex_escape, citation_key, to_bibtex, to_markdown
from bot.store.reading_list import SavedPaper

SAVED = datetime(2026, 11, 26, tzinfo=UTC)


def saved(pid: str, title: str, authors: tuple[str, ...], **kw: object) -> SavedPaper:
    values: dict[str, object] = {
        "categories": ("cs.CL", "cs.LG"),
        "published": datetime(2021, 6, 17, tzinfo=UTC),
        "saved_at": SAVED,
    }
    values.update(kw)
    return SavedPaper(paper_id=pid, title=title, authors=authors, **values)  # type: ignore[arg-type]


LORA = saved(
    "2106.09685",
    "LoRA: Low-Rank Adaptation of Large Language Models",
    ("Edward J. Hu", "Yelong Shen"),
)


def test_one_misc_entry_with_every_field() -> None:
    assert to_bibtex([LORA]) == (
        "@misc{hu2021lora,\n"
        "  title = {{LoRA: Low-Rank Adaptation of Large Language Models}},\n"
        "  author = {Edward J. Hu and Yelong Shen},\n"
        "  year = {2021},\n"
        "  eprint = {2106.09685},\n"
        "  archivePrefix = {arXiv},\n"
        "  primaryClass = {cs.CL},\n"
        "  url = {https://arxiv.org/abs/2106.09685}\n"
        "}\n"
    )


def test_special_characters_are_escaped() -> None:
    assert bibtex_escape(r"50% of {A} & B_1 $x^2$ #1 ~ \o") == (
        r"50\% of \{A\} \& B\_1 \$x\textasciicircum{}2\$ \#1 \textasciitilde{} \textbackslash{}o"
    )
    hostile = saved("2401.00001", "Costs & Benefits: 100% {Evil} } @misc{x,", ("José_Müller",))
    text = to_bibtex([hostile])
    assert r"title = {{Costs \& Benefits: 100\% \{Evil\} \} @misc\{x,}}" in text
    assert r"author = {José\_Müller}" in text
    # braces stay balanced, so no field can end early or open another entry
    body = text.replace(r"\{", "").replace(r"\}", "")
    assert body.count("{") == body.count("}")


def test_keys_are_ascii_unique_and_fall_back_to_the_id_year() -> None:
    accented = saved("2401.00002", "Über alles", ("Jürgen Müller",), published=None)
    assert citation_key(accented) == "muller2024uber"
    nameless = saved("hep-th/9901001", "", (), published=None)
    assert citation_key(nameless) == "anon1999paper"
    twice = to_bibtex([LORA, LORA, LORA])
    assert [line for line in twice.splitlines() if line.startswith("@misc")] == [
        "@misc{hu2021lora,",
        "@misc{hu2021lorab,",
        "@misc{hu2021lorac,",
    ]


def test_markdown_lists_linked_titles() -> None:
    many = saved("2401.00003", "A *bold* claim", ("A", "B", "C", "D"))
    assert to_markdown([LORA, many]).splitlines() == [
        "# Reading list (Paperboy)",
        "",
        "- [LoRA: Low-Rank Adaptation of Large Language Models](https://arxiv.org/abs/2106.09685)"
        " — Edward J. Hu, Yelong Shen · 2021 · arXiv:2106.09685",
        r"- [A \*bold\* claim](https://arxiv.org/abs/2401.00003) — A, B, C et al. · 2021 ·"
        " arXiv:2401.00003",
    ]
