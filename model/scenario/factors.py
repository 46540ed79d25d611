"""The causal clusters of a scenario's timeline, as the factors analyses vary or knock out.

Events joined by ``requires`` (read both ways) form a causal cluster
(docs/CAUSAL_LINKS.md): an event cannot be removed while its consequences
are kept, and two causes that share a consequence cannot be separated. So
attribution and sensitivity analysis treat a cluster as one **factor**, and
every event outside any cluster as a factor of its own.

The clusters of a run are those of its timeline (what the scenario keeps,
and the events it adds, which may require catalog events); each is named
after the catalog cluster it belongs to (``model/data/clusters.toml``). A
catalog cluster that a drop splits in two keeps its id for the part with its
first root and names the other ``<id>:<root>``; a cluster of added events is
named after its first root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..catalog import Cluster, Event, clusters, load_catalog, load_clusters

__all__ = ["Factor", "catalog_factors", "factors"]


@dataclass(frozen=True)
class Factor:
    """A causal cluster (or a lone event): its id, title and members, the roots first."""

    id: str
    title: str
    members: tuple[str, ...]  # the roots (members that require no other member) first
    roots: tuple[str, ...]

    @property
    def is_cluster(self) -> bool:
        return len(self.members) > 1


def factors(timeline: Sequence[Event], named: Mapping[str, Cluster] | None = None) -> list[Factor]:
    """Every event of ``timeline`` in exactly one factor: its cluster, or itself alone.

    In the order of each factor's first event in ``timeline``. ``named``: the
    catalog's clusters (by default :func:`~model.catalog.load_clusters`).
    """
    named = load_clusters() if named is None else named
    order = {e.id: i for i, e in enumerate(timeline)}
    by_id = {e.id: e for e in timeline}
    groups = {min(g, key=order.__getitem__): g for g in clusters(timeline)}
    grouped = set().union(*groups.values()) if groups else set()
    taken: set[str] = set()
    out = []
    for e in timeline:
        if e.id in groups:
            out.append(_cluster(groups[e.id], by_id, order, named, taken))
        elif e.id not in grouped:
            out.append(Factor(e.id, e.title, (e.id,), (e.id,)))
    return out


def catalog_factors() -> list[Factor]:
    """The catalog's named clusters as factors (members: the roots first, then by date)."""
    catalog = load_catalog()
    order = {i: n for n, i in enumerate(catalog)}
    return [
        Factor(c.id, c.title, *_members(c.members, catalog, order))
        for c in load_clusters().values()
    ]


def _cluster(
    group: frozenset[str],
    by_id: Mapping[str, Event],
    order: Mapping[str, int],
    named: Mapping[str, Cluster],
    taken: set[str],
) -> Factor:
    members, roots = _members(group, by_id, order)
    homes = [c for c in named.values() if c.members & group]
    if not homes:
        first = by_id[roots[0]]
        ident, title = roots[0], f"{first.title}, and what requires it"
    else:
        ident = "+".join(c.id for c in homes)
        title = "; ".join(c.title for c in homes)
    if ident in taken:  # a catalog cluster split by a drop: this part is named by its root
        ident = f"{ident}:{roots[0]}"
    taken.add(ident)
    return Factor(ident, title, members, roots)


def _members(
    group: frozenset[str], by_id: Mapping[str, Event], order: Mapping[str, int]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The members (roots first, each part in timeline order) and the roots of a group."""
    ranked = sorted(group, key=order.__getitem__)
    roots = tuple(i for i in ranked if not set(by_id[i].requires) & group)
    return roots + tuple(i for i in ranked if i not in roots), roots
