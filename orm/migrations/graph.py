"""The migration graph: migrations as nodes, dependencies as edges (Django's ``MigrationGraph``).

Each node is ``(app_label, migration_name)``; an edge goes from a migration
to each of its ``dependencies`` (its parents). The loader adds the nodes,
then the edges, then folds squashed migrations in (``replaces``), then
checks the graph: a dependency on a migration that does not exist and a
cycle are reported by name. Plans are depth-first walks with parents (or
children) visited in sorted order, so every run gives the same order.
"""

from __future__ import annotations

from collections.abc import Iterable

from orm.migrations.migration import Migration
from orm.migrations.state import ProjectState

__all__ = ["CircularDependencyError", "MigrationGraph", "Node", "NodeNotFoundError"]

Key = tuple[str, str]


class NodeNotFoundError(LookupError):
    """A migration that is not in the graph: a missing dependency or an unknown target.

    ``node`` is the ``(app_label, name)`` that was looked for; ``origin`` the
    migration whose dependency named it (``None`` for a target).
    """

    def __init__(self, message: str, node: Key, origin: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.origin = origin

    def __str__(self) -> str:
        return self.message


class CircularDependencyError(Exception):
    """The dependencies of some migrations form a cycle (the message lists it in order)."""


class Node:
    """One migration in the graph, with its parents (dependencies) and children."""

    __slots__ = ("children", "key", "parents")

    def __init__(self, key: Key) -> None:
        self.key = key
        self.children: set[Node] = set()
        self.parents: set[Node] = set()

    def __eq__(self, other: object) -> bool:
        return self.key == (other.key if isinstance(other, Node) else other)

    def __lt__(self, other: Node) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: ({self.key[0]!r}, {self.key[1]!r})>"


class DummyNode(Node):
    """Stands in for a migration that a dependency names but that does not exist.

    It lets every edge be added first; the squashed migrations may still make
    it disappear (a dependency on a replaced migration). Any dummy left when
    the graph is validated becomes a :class:`NodeNotFoundError`.
    """

    __slots__ = ("error_message", "origin")

    def __init__(self, key: Key, origin: object, error_message: str) -> None:
        super().__init__(key)
        self.origin = origin
        self.error_message = error_message

    def raise_error(self) -> None:
        """Raise the :class:`NodeNotFoundError` this dummy stands for."""
        raise NodeNotFoundError(self.error_message, self.key, origin=self.origin)


class MigrationGraph:
    """Migrations and their dependencies; plans and states are computed from it.

    ``nodes`` maps each key to its ``Migration`` instance, ``node_map`` to its
    :class:`Node`. Build it with :meth:`add_node` and :meth:`add_dependency`,
    then :meth:`validate_consistency` and :meth:`ensure_not_cyclic`.
    """

    def __init__(self) -> None:
        self.node_map: dict[Key, Node] = {}
        self.nodes: dict[Key, Migration | None] = {}

    # -- building ----------------------------------------------------------------
    def add_node(self, key: Key, migration: Migration | None) -> None:
        """Add the migration ``key`` (which must not be in the graph yet)."""
        assert key not in self.node_map, f"{key} is already in the graph"
        self.node_map[key] = Node(key)
        self.nodes[key] = migration

    def add_dummy_node(self, key: Key, origin: object, error_message: str) -> None:
        """Add a placeholder for a migration that is named but missing (see :class:`DummyNode`)."""
        self.node_map[key] = DummyNode(key, origin, error_message)
        self.nodes[key] = None

    def add_dependency(self, migration: object, child: Key, parent: Key, skip_validation: bool = False) -> None:
        """Record that ``child`` depends on ``parent``; a missing one becomes a dummy node.

        Unless ``skip_validation``, the graph is validated at once (the loader
        skips it until the squashed migrations are folded in).
        """
        if child not in self.nodes:
            self.add_dummy_node(
                child, migration, f"Migration {migration} dependencies reference nonexistent child node {child!r}",
            )
        if parent not in self.nodes:
            self.add_dummy_node(
                parent, migration,
                f"Migration {migration} dependencies reference nonexistent parent node {parent!r}",
            )
        self.node_map[child].parents.add(self.node_map[parent])
        self.node_map[parent].children.add(self.node_map[child])
        if not skip_validation:
            self.validate_consistency()

    def remove_replaced_nodes(self, replacement: Key, replaced: Iterable[Key]) -> None:
        """Let the squashed migration ``replacement`` stand in for the ones it ``replaced``.

        The replaced nodes go; their edges to nodes outside the replaced set
        move to the replacement (edges among them would make it its own parent).
        """
        replaced = set(replaced)
        try:
            replacement_node = self.node_map[replacement]
        except KeyError:
            raise NodeNotFoundError(
                f"Unable to find replacement node {replacement!r}. It was either never added "
                "to the migration graph, or has been removed.", replacement,
            ) from None
        for key in replaced:
            self.nodes.pop(key, None)
            node = self.node_map.pop(key, None)
            if node is None:
                continue
            for child in node.children:
                child.parents.remove(node)
                if child.key not in replaced:
                    replacement_node.children.add(child)
                    child.parents.add(replacement_node)
            for parent in node.parents:
                parent.children.remove(node)
                if parent.key not in replaced:
                    replacement_node.parents.add(parent)
                    parent.children.add(replacement_node)

    def remove_replacement_node(self, replacement: Key, replaced: Iterable[Key]) -> None:
        """Drop the squashed migration ``replacement`` and keep the ones it replaces.

        Used when only some of the replaced migrations are applied: they must
        run one by one. The replacement's children now depend on the last of
        the replaced migrations.
        """
        self.nodes.pop(replacement, None)
        try:
            replacement_node = self.node_map.pop(replacement)
        except KeyError:
            raise NodeNotFoundError(
                f"Unable to remove replacement node {replacement!r}. It was either never added "
                "to the migration graph, or has been removed already.", replacement,
            ) from None
        replaced_nodes: set[Node] = set()
        their_parents: set[Node] = set()
        for key in replaced:
            node = self.node_map.get(key)
            if node is not None:
                replaced_nodes.add(node)
                their_parents |= node.parents
        # Only the last replaced migrations matter: the others are their ancestors.
        replaced_nodes -= their_parents
        for child in replacement_node.children:
            child.parents.remove(replacement_node)
            for node in replaced_nodes:
                node.children.add(child)
                child.parents.add(node)
        for parent in replacement_node.parents:
            parent.children.remove(replacement_node)

    def validate_consistency(self) -> None:
        """Raise :class:`NodeNotFoundError` for the first dependency on a missing migration."""
        for node in self.node_map.values():
            if isinstance(node, DummyNode):
                node.raise_error()

    # -- plans -------------------------------------------------------------------
    def _node(self, target: Key) -> Node:
        if target not in self.nodes:
            raise NodeNotFoundError(f"Node {target!r} not a valid node", target)
        return self.node_map[target]

    def forwards_plan(self, target: Key) -> list[Key]:
        """``target`` and every migration it depends on, each after its dependencies."""
        return self._dfs(self._node(target), forwards=True)

    def backwards_plan(self, target: Key) -> list[Key]:
        """``target`` and every migration depending on it, each before its dependencies."""
        return self._dfs(self._node(target), forwards=False)

    @staticmethod
    def _dfs(start: Node, forwards: bool) -> list[Key]:
        # Iterative, so a long history cannot hit the recursion limit.
        visited: list[Key] = []
        seen: set[Node] = set()
        stack = [(start, False)]
        while stack:
            node, processed = stack.pop()
            if node in seen:
                continue
            if processed:
                seen.add(node)
                visited.append(node.key)
            else:
                stack.append((node, True))
                stack += [(n, False) for n in sorted(node.parents if forwards else node.children)]
        return visited

    def root_nodes(self, app: str | None = None) -> list[Key]:
        """Migrations with no dependency in their own app (of ``app`` when given), sorted."""
        return sorted(
            key for key in self.nodes
            if (app is None or key[0] == app) and all(p.key[0] != key[0] for p in self.node_map[key].parents)
        )

    def leaf_nodes(self, app: str | None = None) -> list[Key]:
        """Migrations no other migration of their app depends on (of ``app`` when given), sorted.

        One per app in a healthy project; two or more mean a merge migration
        is needed.
        """
        return sorted(
            key for key in self.nodes
            if (app is None or key[0] == app) and all(c.key[0] != key[0] for c in self.node_map[key].children)
        )

    def ensure_not_cyclic(self) -> None:
        """Raise :class:`CircularDependencyError` naming the migrations of a cycle, in order."""
        todo = set(self.nodes)
        # Start from the smallest key left, so the same cycle is reported the same way every run.
        for start in sorted(self.nodes):
            if start not in todo:
                continue
            todo.remove(start)
            stack = [start]
            while stack:
                for child in sorted(self.node_map[stack[-1]].children):
                    if child.key in stack:
                        cycle = [*stack[stack.index(child.key):], child.key]
                        raise CircularDependencyError(
                            "Circular dependency between migrations: "
                            + " -> ".join(f"{app}.{name}" for app, name in cycle)
                            + ". Remove one of these dependencies."
                        )
                    if child.key in todo:
                        stack.append(child.key)
                        todo.remove(child.key)
                        break
                else:
                    stack.pop()

    # -- states ------------------------------------------------------------------
    def make_state(self, nodes: Key | list[Key] | None = None, at_end: bool = True) -> ProjectState:
        """The project state after the migrations up to ``nodes`` (default: every leaf).

        With ``at_end=False`` the state stops just before ``nodes`` themselves.
        """
        if nodes is None:
            nodes = self.leaf_nodes()
        elif isinstance(nodes, tuple):
            nodes = [nodes]
        state = ProjectState()
        for key in self._plan(list(nodes), at_end):
            migration = self.nodes[key]
            assert migration is not None
            state = migration.mutate_state(state, preserve=False)
        return state

    def _plan(self, nodes: list[Key], at_end: bool) -> list[Key]:
        plan: list[Key] = []
        planned: set[Key] = set()
        targets = set(nodes)
        for node in nodes:
            for key in self.forwards_plan(node):
                if key not in planned and (at_end or key not in targets):
                    planned.add(key)
                    plan.append(key)
        return plan

    def __contains__(self, key: object) -> bool:
        return key in self.nodes

    def __str__(self) -> str:
        edges = sum(len(node.parents) for node in self.node_map.values())
        return f"Graph: {len(self.nodes)} nodes, {edges} edges"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"
