import numpy as np
import pytest
import torch

from sertk.data.batching import SegmentDataset, collate, make_loader
from sertk.data.normalize import Normalizer

RNG = np.random.default_rng(0)


def _dataset(n=5):
    frames = [RNG.standard_normal((3 + i, 4)).astype(np.float32) for i in range(n)]
    utt = [RNG.standard_normal(6) for _ in range(n)]
    targets = {"emotion": [i % 3 for i in range(n)], "arousal": [0.5 * i for i in range(n)],
               "contour": [np.linspace(0, 1, 2 + i) for i in range(n)]}
    return SegmentDataset([f"s{i}" for i in range(n)], {"mfcc": frames, "egemaps": utt}, targets)


def test_collate_pads_frames_and_stacks_utterance_features():
    data = _dataset()
    batch = collate([data[1], data[3]])
    assert batch.ids == ["s1", "s3"]
    mfcc = batch.inputs["mfcc"]
    assert mfcc.shape == (2, 6, 4) and mfcc.dtype == torch.float32
    assert batch.lengths["mfcc"].tolist() == [4, 6] and batch.lengths["mfcc"].dtype == torch.long
    np.testing.assert_array_equal(mfcc[0, :4].numpy(), data.arrays["mfcc"][1])
    assert not mfcc[0, 4:].any()
    assert batch.inputs["egemaps"].shape == (2, 6) and batch.inputs["egemaps"].dtype == torch.float32
    assert "egemaps" not in batch.lengths


def test_collate_targets_and_masks():
    data = _dataset()
    batch = collate([data[0], data[2]])
    assert batch.targets["emotion"].tolist() == [0, 2] and batch.targets["emotion"].dtype == torch.long
    assert batch.targets["arousal"].tolist() == [0.0, 1.0] and batch.targets["arousal"].dtype == torch.float32
    contour = batch.targets["contour"]
    assert contour.shape == (2, 4) and contour.dtype == torch.float32
    assert batch.target_masks["contour"].tolist() == [[True, True, False, False], [True] * 4]
    np.testing.assert_allclose(contour[1].numpy(), np.linspace(0, 1, 4), rtol=1e-6)
    assert set(batch.target_masks) == {"contour"}


def test_loader_shuffles_reproducibly():
    data = _dataset(10)
    order = lambda seed, shuffle=True: [i for b in make_loader(data, 3, shuffle, seed) for i in b.ids]  # noqa: E731
    assert order(1) == order(1) and order(1) != order(2)
    assert sorted(order(1)) == sorted(data.ids) and order(0, shuffle=False) == data.ids
    assert [len(b.ids) for b in make_loader(data, 3, False, 0, drop_last=True)] == [3, 3, 3]


def test_dataset_rejects_misaligned_lists():
    with pytest.raises(ValueError, match="'y' has 1 entries for 2 segments"):
        SegmentDataset(["a", "b"], {"x": [np.zeros(2)] * 2}, {"y": [0]})


def test_standard_normalizer_uses_training_statistics(tmp_path):
    train = {"mfcc": [RNG.normal(3, 2, (n, 4)) for n in (5, 7, 9)], "egemaps": [RNG.normal(-1, 5, 3) for _ in range(4)],
             "raw": [np.ones((10, 1))]}
    norm = Normalizer({"mfcc": "standard", "egemaps": "standard", "raw": "none"}).fit(train)
    frames = np.concatenate(train["mfcc"])
    np.testing.assert_allclose(norm.stats["mfcc"][0], frames.mean(axis=0))
    np.testing.assert_allclose(norm.stats["mfcc"][1], frames.std(axis=0))
    np.testing.assert_allclose(norm.stats["egemaps"][0], np.mean(train["egemaps"], axis=0))
    out = norm.transform(train)
    normed = np.concatenate(out["mfcc"])
    np.testing.assert_allclose(normed.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(normed.std(axis=0), 1, atol=1e-5)
    assert out["raw"] is train["raw"] and out["mfcc"][0].dtype == np.float32
    test = {"mfcc": [np.full((2, 4), 3.0)], "egemaps": [np.zeros(3)]}
    expected = (3.0 - frames.mean(axis=0)) / frames.std(axis=0)
    np.testing.assert_allclose(norm.transform(test)["mfcc"][0], np.stack([expected] * 2), rtol=1e-5)
    norm.save(tmp_path / "fold" / "normalizer.npz")
    copy = Normalizer.load(tmp_path / "fold" / "normalizer.npz")
    assert copy.modes == norm.modes
    for key in test:
        np.testing.assert_array_equal(copy.transform(test)[key][0], norm.transform(test)[key][0])


@pytest.mark.parametrize("shape", [(6,), (3, 4)])
def test_equal_shaped_arrays_are_normalised_in_blocks_exactly_as_one_by_one(shape):
    arrays = [RNG.normal(2, 3, shape).astype(np.float32) for _ in range(70)]  # more rows than one block of 32
    norm = Normalizer({"x": "standard"}).fit({"x": arrays})
    mean, std = norm.stats["x"]
    out = norm.transform({"x": arrays})["x"]
    assert len(out) == 70 and all(o.dtype == np.float32 and o.shape == shape for o in out)
    for got, a in zip(out, arrays):
        np.testing.assert_array_equal(got, ((a - mean) / std).astype(np.float32))


def test_constant_dimension_does_not_divide_by_zero():
    norm = Normalizer({"x": "standard"}).fit({"x": [np.ones((4, 2))]})
    assert np.isfinite(norm.transform({"x": [np.ones((1, 2))]})["x"][0]).all()


def test_speaker_normalizer_uses_each_speakers_own_statistics():
    arrays = {"x": [RNG.normal(10, 1, 3), RNG.normal(-4, 3, 3), RNG.normal(10, 1, 3), RNG.normal(-4, 3, 3)]}
    speakers = ["a", "b", "a", "b"]
    norm = Normalizer({"x": "speaker"}).fit({"x": arrays["x"][:1]}, speakers[:1])
    out = norm.transform(arrays, speakers)["x"]
    for speaker in "ab":
        own = np.stack([a for a, s in zip(arrays["x"], speakers) if s == speaker])
        expected = (own - own.mean(axis=0)) / own.std(axis=0)
        np.testing.assert_allclose(np.stack([o for o, s in zip(out, speakers) if s == speaker]), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="needs the speaker"):
        norm.transform(arrays)
    with pytest.raises(ValueError, match="normalisation of 'x' must be one of standard, speaker, none"):
        Normalizer({"x": "corpus"})


def _lengths_dataset(lengths):
    from sertk.data.batching import SegmentDataset

    arrays = [np.zeros((n, 3), np.float32) for n in lengths]
    return SegmentDataset([str(i) for i in range(len(lengths))], {"x": arrays}, {"y": [0] * len(lengths)})


def test_batches_are_torchs_own_when_lengths_are_alike():
    import torch
    from torch.utils.data import DataLoader

    from sertk.data.batching import collate, make_loader

    dataset = _lengths_dataset([50 + (7 * i) % 30 for i in range(45)])
    ours = make_loader(dataset, 8, True, 5)
    torchs = DataLoader(dataset, batch_size=8, shuffle=True, collate_fn=collate,
                        generator=torch.Generator().manual_seed(5))
    for _ in range(3):  # every epoch's shuffle too
        assert [list(b.ids) for b in ours] == [list(b.ids) for b in torchs]


def test_one_long_recording_never_pads_a_whole_batch():
    from sertk.data.batching import make_loader

    lengths = [50 + i for i in range(40)]
    lengths[7] = 60_000  # a 10-minute recording among half-second ones (100 frames/s)
    for shuffle in (False, True):
        batches = list(make_loader(_lengths_dataset(lengths), 8, shuffle, 3))
        assert sorted(int(i) for b in batches for i in b.ids) == list(range(40))
        padded = [b.inputs["x"].shape[0] * b.inputs["x"].shape[1] for b in batches]
        assert max(padded) == 60_000  # the long one alone; without the bound: 8 × 60 000
        assert all(len(b.ids) == 1 for b in batches if "7" in b.ids)
