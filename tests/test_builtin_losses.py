"""Built-in losses: hand values, masks and class weighting."""
import numpy as np
import pytest
import torch

from sertk.builtins.losses import CTC, ConcordanceLoss, CrossEntropy, MeanSquaredError, SumSquaredError
from sertk.builtins.metrics import ConcordanceCorrelation
from sertk.interfaces import Head

HEAD = Head("emotion", "classification", ("a", "b", "c"))


def test_cross_entropy_matches_hand_value():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    target = torch.tensor([0, 2])
    expected = -(np.log(np.exp(2) / (np.exp(2) + 2)) + np.log(1 / (np.e + 2))) / 2
    assert float(CrossEntropy()(logits, target)) == pytest.approx(expected, rel=1e-6)


def test_frame_level_cross_entropy_ignores_masked_frames():
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(2, 4, 3)), dtype=torch.float32)
    target = torch.tensor([[0, 1, 2, 0], [2, 2, 0, 0]])
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    loss = CrossEntropy()(logits, target, mask)
    valid = torch.cat([logits[0, :3], logits[1, :2]])
    expected = torch.nn.functional.cross_entropy(valid, torch.tensor([0, 1, 2, 2, 2]))
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)
    garbage = logits.clone()
    garbage[0, 3], garbage[1, 2:] = 1e4, -1e4
    assert float(CrossEntropy()(garbage, target, mask)) == pytest.approx(float(loss), rel=1e-6)


def test_balanced_cross_entropy_weights_follow_sklearn():
    from sklearn.utils.class_weight import compute_class_weight

    targets = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2])
    loss = CrossEntropy(balanced=True)
    with pytest.raises(RuntimeError, match="needs prepare"):
        loss(torch.zeros(1, 3), torch.tensor([0]))
    loss.prepare(HEAD, targets)
    np.testing.assert_allclose(loss._weight.numpy(), compute_class_weight("balanced", classes=np.arange(3),
                                                                          y=targets), rtol=1e-6)
    logits = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    weighted = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2]), weight=loss._weight)
    assert float(loss(logits, torch.tensor([0, 2]))) == pytest.approx(float(weighted))


def test_cross_entropy_weight_errors():
    with pytest.raises(ValueError, match="has 2 values but head 'emotion' has 3 classes"):
        CrossEntropy(weights=[1.0, 2.0]).prepare(HEAD, np.array([0, 1]))
    with pytest.raises(ValueError, match="either weights or balanced"):
        CrossEntropy(weights=[1.0, 1.0, 1.0], balanced=True)
    with pytest.raises(ValueError, match="does not fit target shape"):
        CrossEntropy()(torch.zeros(2, 3), torch.zeros(3, dtype=torch.long))


def test_mse_with_and_without_mask():
    out, target = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([0.0, 2.0, 2.0])
    assert float(MeanSquaredError()(out, target)) == pytest.approx(5 / 3)
    frames_out = torch.tensor([[1.0, 9.0], [3.0, 9.0]])
    frames_target = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    mask = torch.tensor([[True, False], [True, False]])
    assert float(MeanSquaredError()(frames_out, frames_target, mask)) == pytest.approx((1 + 4) / 2)


def test_ccc_loss_is_one_minus_ccc_by_hand():
    t = torch.tensor([1.0, 2.0, 3.0, 4.0])
    p = torch.tensor([2.0, 2.0, 4.0, 5.0])
    ccc = 2 * 1.375 / (1.25 + 1.6875 + 0.75 ** 2)
    assert float(ConcordanceLoss()(p, t)) == pytest.approx(1 - ccc, rel=1e-5)
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 7)), rng.normal(size=(3, 7))
    mask = rng.random((3, 7)) < 0.6
    loss = ConcordanceLoss()(torch.tensor(a), torch.tensor(b), torch.tensor(mask))
    assert float(loss) == pytest.approx(1 - ConcordanceCorrelation()(b[mask], a[mask]), rel=1e-5)


def test_ccc_loss_gradient_improves_concordance():
    target = torch.linspace(-1, 1, 16)
    output = torch.zeros(16, requires_grad=True)
    opt = torch.optim.SGD([output], lr=1.0)
    values = []
    for _ in range(20):
        loss = ConcordanceLoss()(output + 0.01 * torch.arange(16.0), target)
        values.append(float(loss.detach()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert values[-1] < values[0] / 2


def _sequences(seed=0, b=4, t=9, d=None):
    """Random outputs, targets and a mask with sequences of different lengths (one of a single frame)."""
    rng = np.random.default_rng(seed)
    shape = (b, t) if d is None else (b, t, d)
    out, target = rng.normal(size=shape), rng.normal(size=shape)
    target += 0.8 * out  # correlated, so the CCCs are far from 0
    lengths = np.array([t, t - 3, 5, 1][:b])
    mask = np.arange(t)[None, :] < lengths[:, None]
    return out, target, mask


def test_ccc_total_pools_every_valid_frame_and_sums_dimensions():
    out, target, mask = _sequences(d=2)
    loss = ConcordanceLoss(form="total")(torch.tensor(out), torch.tensor(target), torch.tensor(mask))
    expected = sum(1 - ConcordanceCorrelation()(target[..., k][mask], out[..., k][mask]) for k in range(2))
    assert float(loss) == pytest.approx(expected, rel=1e-7)
    scalar = ConcordanceLoss()(torch.tensor(out[..., 0]), torch.tensor(target[..., 0]), torch.tensor(mask))
    assert float(scalar) == pytest.approx(1 - ConcordanceCorrelation()(target[..., 0][mask], out[..., 0][mask]))


@pytest.mark.parametrize("form", ["sum", "mean"])
def test_ccc_per_sequence_forms_by_hand(form):
    out, target, mask = _sequences(seed=3, d=3)
    per = [sum(1 - ConcordanceCorrelation()(target[b, mask[b], k], out[b, mask[b], k]) for k in range(3))
           for b in range(len(out))]
    loss = ConcordanceLoss(form=form)(torch.tensor(out), torch.tensor(target), torch.tensor(mask))
    assert float(loss) == pytest.approx(sum(per) if form == "sum" else np.mean(per), rel=1e-7)
    # a single-frame sequence has no variance: its CCC is 0 (unless output equals target), its loss 1 per dimension
    assert per[3] == pytest.approx(3.0)
    # (B, T) is one dimension
    flat = ConcordanceLoss(form=form)(torch.tensor(out[..., 1]), torch.tensor(target[..., 1]), torch.tensor(mask))
    per1 = [1 - ConcordanceCorrelation()(target[b, mask[b], 1], out[b, mask[b], 1]) for b in range(len(out))]
    assert float(flat) == pytest.approx(sum(per1) if form == "sum" else np.mean(per1), rel=1e-7)


def test_per_sequence_ccc_differs_from_total_ccc():
    # each sequence tracks its own gold well, but with the wrong offset: total CCC suffers, ΣCCC does not
    t = np.linspace(-1, 1, 10)
    target = np.stack([t, t + 3.0])
    out = np.stack([t + 3.0, t])
    args = (torch.tensor(out), torch.tensor(target))
    assert float(ConcordanceLoss(form="mean")(*args)) == pytest.approx(1 - 2 / (2 + 9 / np.var(t)), rel=1e-6)
    assert float(ConcordanceLoss(form="total")(*args)) > 0.5


@pytest.mark.parametrize("loss", [ConcordanceLoss(form="total"), ConcordanceLoss(form="sum"),
                                  ConcordanceLoss(form="mean"), SumSquaredError()],
                         ids=["ccc-total", "ccc-sum", "ccc-mean", "sse"])
@pytest.mark.parametrize("d", [None, 2])
def test_gradients_match_finite_differences_and_ignore_padding(loss, d):
    out, target, mask = _sequences(seed=5, d=d)
    out_t = torch.tensor(out, requires_grad=True)
    target_t, mask_t = torch.tensor(target), torch.tensor(mask)
    assert torch.autograd.gradcheck(lambda o: loss(o, target_t, mask_t), (out_t,), eps=1e-6, atol=1e-6)
    # central differences by hand on a few valid entries agree with autograd too
    grad, = torch.autograd.grad(loss(out_t, target_t, mask_t), out_t)
    for index in [(0, 0), (1, 2), (2, 4)]:
        index = index if d is None else (*index, 1)
        plus, minus = out.copy(), out.copy()
        plus[index] += 1e-6
        minus[index] -= 1e-6
        numeric = (float(loss(torch.tensor(plus), target_t, mask_t)) -
                   float(loss(torch.tensor(minus), target_t, mask_t))) / 2e-6
        assert float(grad[index]) == pytest.approx(numeric, rel=1e-4, abs=1e-7)
    # padded frames: no gradient, and garbage there changes nothing
    assert torch.all(grad[~mask_t] == 0)
    garbage = out.copy()
    garbage[~mask] = np.nan
    assert float(loss(torch.tensor(garbage), target_t, mask_t)) == pytest.approx(float(loss(out_t.detach(), target_t, mask_t)))


def test_ccc_forms_and_shapes_are_checked():
    with pytest.raises(ValueError, match="form must be"):
        ConcordanceLoss(form="sigma")
    with pytest.raises(ValueError, match="needs frame-level outputs"):
        ConcordanceLoss(form="sum")(torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match="does not fit target shape"):
        ConcordanceLoss()(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="mask shape"):
        SumSquaredError()(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(2, 4, dtype=torch.bool))


def test_sse_is_the_plain_sum_over_valid_frames():
    out, target = torch.tensor([[1.0, 2.0, 9.0], [0.0, 5.0, 5.0]]), torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    assert float(SumSquaredError()(out, target, mask)) == pytest.approx(1 + 4 + 1)
    assert float(SumSquaredError()(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0]))) == pytest.approx(10.0)


def test_ctc_matches_hand_sum_over_alignments_and_torch():
    # T = 2 frames, classes (blank, a), target "a": alignments "a a", "a -", "- a"
    probs = torch.tensor([[[0.6, 0.4], [0.3, 0.7]]])
    target, mask, lengths = torch.tensor([[1, 0]]), torch.tensor([[True, False]]), torch.tensor([2])
    by_hand = -np.log(0.4 * 0.7 + 0.4 * 0.3 + 0.6 * 0.7)  # divided by target length 1
    loss = CTC()(probs.log(), target, mask, output_lengths=lengths)
    assert float(loss) == pytest.approx(by_hand, rel=1e-6)

    rng = np.random.default_rng(0)
    logp = torch.tensor(rng.normal(size=(3, 9, 5)), dtype=torch.float32).log_softmax(-1)
    targets = torch.tensor([[1, 2, 2, 0], [3, 0, 0, 0], [4, 1, 3, 2]])
    mask = targets > 0
    out_lengths = torch.tensor([9, 6, 8])
    expected = torch.nn.functional.ctc_loss(logp.transpose(0, 1), targets, out_lengths, torch.tensor([3, 1, 4]))
    assert float(CTC()(logp, targets, mask, output_lengths=out_lengths)) == pytest.approx(float(expected), rel=1e-6)


def test_ctc_prefers_the_right_alignment_and_has_finite_gradients():
    target, lengths = torch.tensor([[1, 2]]), torch.tensor([4])
    right = torch.full((1, 4, 3), 0.05).index_put_((torch.tensor(0), torch.arange(4), torch.tensor([1, 0, 2, 0])),
                                                   torch.tensor(0.9))
    wrong = right[:, :, [0, 2, 1]]  # spells "b a"
    assert float(CTC()(right.log(), target, output_lengths=lengths)) < float(
        CTC()(wrong.log(), target, output_lengths=lengths)) - 1
    logits = torch.zeros(1, 4, 3, requires_grad=True)
    CTC()(logits.log_softmax(-1), target, output_lengths=lengths).backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    # a target longer than the output is infeasible: zeroed, not infinite
    short = CTC()(logits.log_softmax(-1), torch.tensor([[1, 2, 1, 2, 1]]), output_lengths=lengths)
    assert float(short.detach()) == 0.0


def test_ctc_needs_output_lengths():
    with pytest.raises(ValueError, match="ctc needs output_lengths"):
        CTC()(torch.zeros(1, 4, 3), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="output .B, T, C. and target .B, L."):
        CTC()(torch.zeros(4, 3), torch.tensor([[1]]), output_lengths=torch.tensor([4]))
