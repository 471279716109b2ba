"""Model tests reuse the small simulated corpus of the corpus tests."""

from tests.corpus.conftest import small_corpus  # noqa: F401
