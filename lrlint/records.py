"""Records: typed classes declared like dataclasses, built without generated code.

``@dataclass`` compiles an ``__init__``, ``__repr__`` and ``__eq__`` for each class when its module is
imported (about half a millisecond a class); the kinds of finding data and the explanations would add
several milliseconds to every pre-commit run on one file. A ``Record`` lists its fields as annotations,
with defaults as class attributes (``field(default_factory=list)`` for a default made per record), and
shares one ``__init__`` (positional or keyword arguments), ``__repr__`` and ``__eq__``. Type checkers read
it as a dataclass (``dataclass_transform``). A record is mutable and unhashable; what is hashed, built per
value of a file (``Value``, ``Span``), copied with ``dataclasses.replace`` or validated by pydantic stays a
dataclass.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar

_T = TypeVar("_T")

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - the decorator only informs type checkers

    def dataclass_transform(**_: Any) -> Callable[[_T], _T]:
        return lambda cls: cls


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], _T]) -> _T:
    """A default made for each record by ``default_factory()`` (``dataclasses.field``'s)."""
    return _Factory(default_factory)  # type: ignore[return-value]  # replaced by the made value in __init__


@dataclass_transform(field_specifiers=(field,))
class Record:
    __fields__: ClassVar[tuple[str, ...]] = ()  # the fields, in declaration order (a base's first)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = list(cls.__fields__)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if not str(annotation).startswith(("ClassVar", "typing.ClassVar")) and name not in names:
                names.append(name)
        cls.__fields__ = tuple(names)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = type(self).__fields__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments, {len(args)} given")
        values = dict(zip(names, args, strict=False))  # fewer arguments than fields: the rest by keyword
        for name, value in kwargs.items():
            if name not in names or name in values:
                raise TypeError(f"{type(self).__name__}() got an unexpected or repeated argument {name!r}")
            values[name] = value
        for name in names:
            if name not in values:
                if not hasattr(type(self), name):
                    raise TypeError(f"{type(self).__name__}() is missing the argument {name!r}")
                default = getattr(type(self), name)
                values[name] = default.make() if type(default) is _Factory else default
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields(self))})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(self.__dict__[k] == other.__dict__[k] for k in self.__fields__)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


def fields(record: Record) -> Iterator[tuple[str, Any]]:
    """(field, value) of ``record``, in declaration order."""
    return ((name, record.__dict__[name]) for name in record.__fields__)


_R = TypeVar("_R", bound=Record)


def replace(record: _R, **changes: Any) -> _R:
    """A copy of ``record`` with ``changes`` (``dataclasses.replace``'s)."""
    return type(record)(**{**dict(fields(record)), **changes})
