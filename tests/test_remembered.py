"""Values read once inside a block: nested blocks share the outer one's, and outside every value is read
afresh (a worker's next batch sees the seller's latest templates)."""

from __future__ import annotations

from rebook.remembered import Remembered


def test_a_value_is_read_once_inside_a_block_and_afresh_outside():
    memo, reads = Remembered("test"), []

    def read():
        reads.append(1)
        return len(reads)

    assert memo.get("k", read) == 1 and memo.get("k", read) == 2  # no block: every time
    with memo.block():
        assert memo.get("k", read) == 3 and memo.get("k", read) == 3
        with memo.block():  # nested: the outer block's values
            assert memo.get("k", read) == 3 and memo.get("other", read) == 4
        assert memo.get("other", read) == 4
    assert memo.get("k", read) == 5
