"""Paradigms: raw runs of a dataset -> ``X, y, metadata`` with MOABB's conventions.

``LeftRightImagery``, ``MotorImagery``, ``P300``, the filter-bank imagery paradigms
and ``SSVEP`` / ``FilterBankSSVEP`` accept any MOABB ``BaseDataset`` (neurodec's
datasets included) and return arrays equal to ``moabb.paradigms.*.get_data`` for the
same settings, cached per subject on disk (:mod:`neurodec.paradigms.cache`).
"""

from neurodec.paradigms.base import BaseParadigm
from neurodec.paradigms.cache import EpochCache
from neurodec.paradigms.filter_bank import FilterBankLeftRightImagery, FilterBankMotorImagery
from neurodec.paradigms.motor_imagery import LeftRightImagery, MotorImagery
from neurodec.paradigms.p300 import P300
from neurodec.paradigms.registry import get_paradigm, list_paradigms
from neurodec.paradigms.ssvep import SSVEP, FilterBankSSVEP

__all__ = [
    "BaseParadigm",
    "EpochCache",
    "LeftRightImagery",
    "MotorImagery",
    "P300",
    "FilterBankLeftRightImagery",
    "FilterBankMotorImagery",
    "SSVEP",
    "FilterBankSSVEP",
    "get_paradigm",
    "list_paradigms",
]
