"""The integer formulas, against values worked out by hand from the Keras/PyTorch docs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncalc import formulas as F


@pytest.mark.parametrize(
    ("n", "f", "s", "d", "valid", "same"),
    [
        (200, 2, 2, 1, 100, 100),  # seed example 1: ceil((200-2+1)/2) = ceil(99.5) = 100
        (100, 3, 1, 1, 98, 100),  # seed example 2 is 'same': ceil(100/1) = 100
        (7, 3, 2, 1, 3, 4),  # ceil(5/2)=3, ceil(7/2)=4
        (31, 5, 3, 1, 9, 11),  # ceil(27/3)=9, ceil(31/3)=11
        (224, 7, 2, 1, 109, 112),  # ceil(218/2)=109, ceil(224/2)=112
        (224, 7, 1, 2, 212, 224),  # F_eff = 2*6+1 = 13: 224-13+1 = 212
        (5, 5, 1, 1, 1, 5),
    ],
)
def test_keras_lengths(n: int, f: int, s: int, d: int, valid: int, same: int) -> None:
    f_eff = F.effective_kernel(f, d)
    assert F.keras_valid_length(n, f_eff, s) == valid
    assert F.keras_same_length(n, s) == same


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "d", "ceil_mode", "out"),
    [
        (224, 7, 2, 3, 1, False, 112),  # ResNet stem: floor((224+6-7)/2)+1 = 112
        (32, 3, 2, 1, 2, False, 15),  # floor((32+2-5)/2)+1 = 15
        (112, 3, 2, 0, 1, True, 56),  # ceil((112-3)/2)+1 = 56
        (6, 3, 2, 0, 1, True, 3),  # ceil(3/2)+1 = 3 (floor would give 2)
        (6, 3, 2, 0, 1, False, 2),
        (5, 3, 3, 1, 1, True, 2),  # ceil(4/3)+1 = 3, but window 3 starts at 6 >= 5+1: dropped
        (55, 3, 2, 0, 1, True, 27),  # torchvision squeezenet: ceil(52/2)+1 = 27
    ],
)
def test_padded_length(n: int, f: int, s: int, p: int, d: int, ceil_mode: bool, out: int) -> None:
    assert F.padded_length(n, F.effective_kernel(f, d), s, p, p, ceil_mode) == out


@pytest.mark.parametrize(
    ("n", "f_eff", "s", "pads"),
    [(7, 4, 1, (1, 2)), (7, 3, 2, (1, 1)), (200, 2, 2, (0, 0)), (8, 3, 2, (0, 1)), (5, 9, 1, (4, 4))],
)
def test_same_padding_puts_the_extra_cell_after(n: int, f_eff: int, s: int, pads: tuple[int, int]) -> None:
    assert F.same_padding(n, f_eff, s) == pads


@given(st.integers(1, 500), st.integers(1, 12), st.integers(1, 6), st.integers(1, 4))
def test_same_padding_gives_ceil_n_over_s(n: int, f: int, s: int, d: int) -> None:
    f_eff = F.effective_kernel(f, d)
    before, after = F.same_padding(n, f_eff, s)
    assert F.padded_length(n, f_eff, s, before, after) == math.ceil(n / s)


@given(st.integers(1, 500), st.integers(1, 12), st.integers(1, 6))
def test_valid_agrees_with_padding_zero(n: int, f: int, s: int) -> None:
    if n >= f:
        assert F.keras_valid_length(n, f, s) == F.padded_length(n, f, s, 0, 0)
