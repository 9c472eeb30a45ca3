"""The key phrases found in entries for the week's trends (publish.trends), kept so
that each entry's are found once, not by every render process."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Table, delete, insert, select

from aggregator.store.base import StoreBase, _chunks, wrap_errors
from aggregator.store.schema import EntryPhrasesRow, EntryRow

PHRASES = cast(Table, EntryPhrasesRow.__table__)


class PhrasesMixin(StoreBase):
    """The Store's methods that keep entries' key phrases."""

    @wrap_errors("read entries' key phrases")
    def entry_phrases(self, ids: Sequence[int]) -> dict[int, tuple[int, frozenset[str]]]:
        """The phrases kept for the entries of `ids` that have some, by id, each with
        the digest of the text they were found in."""
        found: dict[int, tuple[int, frozenset[str]]] = {}
        with self._session() as session:
            for chunk in _chunks(ids, 500):
                query = select(PHRASES).where(PHRASES.c.entry_id.in_(chunk))
                found.update((row.entry_id, (row.text_digest, frozenset(row.phrases)))
                             for row in session.execute(query))
        return found

    @wrap_errors("keep entries' key phrases")
    def keep_entry_phrases(self, found: Iterable[tuple[int, int, frozenset[str]]]) -> None:
        """Keep (entry id, text digest, phrases), in place of what was kept for those
        entries; those no longer stored are left out."""
        rows = {entry_id: {"entry_id": entry_id, "text_digest": digest,
                           "phrases": sorted(phrases)} for entry_id, digest, phrases in found}
        if not rows:
            return
        with self._session.begin() as session:
            for chunk in _chunks(sorted(rows), 500):
                session.execute(delete(PHRASES).where(PHRASES.c.entry_id.in_(chunk)))
                # Only the entries still there: one removed since the render read it
                # would break the foreign key.
                stored = session.scalars(select(EntryRow.id).where(EntryRow.id.in_(chunk)))
                kept = [rows[i] for i in stored]
                if kept:
                    session.execute(insert(PHRASES), kept)
