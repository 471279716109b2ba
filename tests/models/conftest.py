"""Model tests reuse the small simulated corpus of the corpus tests, and a tiny tokenizer made on it."""

import pytest

from tests.corpus.conftest import small_corpus  # noqa: F401


@pytest.fixture(scope="session")
def tiny_tokenizer_path(small_corpus, tmp_path_factory):  # noqa: F811
    """A tiny tokenizer checkpoint (codebooks initialised on the small corpus)."""
    pytest.importorskip("torch")
    from tests.models._backbone import tiny_tokenizer

    return tiny_tokenizer(small_corpus, tmp_path_factory.mktemp("tok") / "tokenizer.pt")
