"""Paradigms by name: ``get_paradigm("LeftRightImagery", fmin=8, fmax=30)``."""

from __future__ import annotations

from typing import Any

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.paradigms.base import BaseParadigm
from neurodec.paradigms.filter_bank import FilterBankLeftRightImagery, FilterBankMotorImagery
from neurodec.paradigms.motor_imagery import LeftRightImagery, MotorImagery
from neurodec.paradigms.p300 import P300
from neurodec.paradigms.ssvep import SSVEP, FilterBankSSVEP

__all__ = ["list_paradigms", "get_paradigm", "paradigm_classes"]

_PARADIGMS: dict[str, type[BaseParadigm]] = {
    "LeftRightImagery": LeftRightImagery,
    "MotorImagery": MotorImagery,
    "P300": P300,
    "FilterBankLeftRightImagery": FilterBankLeftRightImagery,
    "FilterBankMotorImagery": FilterBankMotorImagery,
    "SSVEP": SSVEP,
    "FilterBankSSVEP": FilterBankSSVEP,
}


def paradigm_classes() -> dict[str, type[BaseParadigm]]:
    """Paradigm name (MOABB's class name) -> class."""
    return dict(_PARADIGMS)


def list_paradigms() -> list[str]:
    """Names accepted by :func:`get_paradigm`."""
    return sorted(_PARADIGMS)


def get_paradigm(name: str, **params: Any) -> BaseParadigm:
    """A paradigm by name (case-insensitive), built with ``params``.

    Raises
    ------
    UnknownNameError
        ``name`` is not a known paradigm; the message lists the known ones.
    InvalidInputError
        ``params`` holds a parameter the paradigm does not take.
    """
    lookup = {k.lower(): v for k, v in _PARADIGMS.items()}
    cls = lookup.get(str(name).lower())
    if cls is None:
        raise UnknownNameError(f"unknown paradigm {name!r}; known paradigms: {', '.join(list_paradigms())}")
    valid = set(cls._get_param_names())
    bad = sorted(set(params) - valid)
    if bad:
        raise InvalidInputError(f"{cls.__name__} does not take {bad}; its parameters are {sorted(valid)}")
    return cls(**params)
