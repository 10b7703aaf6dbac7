"""What other aggregates may react to in a partner's life, without partners importing them.

A suspended partner's listings must leave every catalog view, but the catalog depends on partners, not
the other way round. So partners announces the change here and the composition module
(`chalicelib.bootstrap`) subscribes the catalog's reaction; a test can subscribe its own.
"""
from __future__ import annotations

from typing import Protocol

from chalicelib.core.identity import Principal


class SuspensionReaction(Protocol):
    def __call__(self, *, partner_id: str, actor: Principal) -> object: ...


_on_suspended: list[SuspensionReaction] = []


def when_suspended(reaction: SuspensionReaction) -> None:
    """Run `reaction(partner_id=..., actor=...)` after each partner suspension (once per reaction)."""
    if reaction not in _on_suspended:
        _on_suspended.append(reaction)


def partner_suspended(*, partner_id: str, actor: Principal) -> None:
    """Announce a committed suspension to every subscribed reaction, in subscription order."""
    for reaction in list(_on_suspended):
        reaction(partner_id=partner_id, actor=actor)


class RenameReaction(Protocol):
    def __call__(self, *, partner_id: str, display_name: str, at: str) -> object: ...


_on_renamed: list[RenameReaction] = []


def when_renamed(reaction: RenameReaction) -> None:
    """Run `reaction(partner_id=..., display_name=..., at=...)` after each committed rename (once per reaction)."""
    if reaction not in _on_renamed:
        _on_renamed.append(reaction)


def partner_renamed(*, partner_id: str, display_name: str, at: str) -> None:
    """Announce a committed rename (`at` is the profile's new `updated_at`) to every subscribed reaction."""
    for reaction in list(_on_renamed):
        reaction(partner_id=partner_id, display_name=display_name, at=at)


__all__ = ["RenameReaction", "SuspensionReaction", "partner_renamed", "partner_suspended", "when_renamed",
           "when_suspended"]
