from muse_explore.training.sampler import GroupBatchSampler

GROUPS = [[3 * k, 3 * k + 1, 3 * k + 2] for k in range(7)] + [[21], [22, 23]]


def test_whole_groups_and_ranks_union_to_the_single_process_batches():
    single = GroupBatchSampler(GROUPS, 8, seed=3)
    ranks = [GroupBatchSampler(GROUPS, 8, seed=3, rank=r, world_size=2) for r in range(2)]
    for epoch in range(3):
        for s in (single, *ranks):
            s.set_epoch(epoch)
        one = list(single)
        two = list(zip(*ranks, strict=True))
        assert len(one) == len(two) == len(single)
        for batch, (b0, b1) in zip(one, two, strict=True):
            assert sorted(batch) == sorted(b0 + b1) and b0 and b1
        seen = sorted(i for b in one for i in b)
        assert seen == list(range(24))  # every structure once per epoch
        for batch in one:  # groups never split
            for g in GROUPS:
                assert set(g) <= set(batch) or not set(g) & set(batch)
    single.set_epoch(0)
    first = list(single)
    single.set_epoch(1)
    assert list(single) != first  # reshuffled each epoch
    batches = list(GroupBatchSampler(GROUPS, 8, shuffle=False))
    assert batches[0] == list(range(9))  # 3 groups of mean size 2.7 per batch of 8
    assert batches[-1] == list(range(18, 24))  # the short last batch joined the one before


def test_too_small_batches_for_the_processes():
    import pytest

    with pytest.raises(ValueError, match="cannot feed 2 processes"):
        GroupBatchSampler([[0, 1, 2, 3]] * 3, 2, world_size=2)


def test_an_epoch_resumes_at_a_given_batch():
    groups = [[3 * k, 3 * k + 1, 3 * k + 2] for k in range(7)]
    s = GroupBatchSampler(groups, 6, seed=4)
    s.set_epoch(2)
    whole = list(s)
    s.set_epoch(2, start=2)
    assert list(s) == whole[2:] and len(s) == len(whole) - 2
    s.set_epoch(3)  # the next epoch starts from its beginning again
    assert len(list(s)) == len(whole)
