"""Built-in losses: hand values, masks and class weighting."""
import numpy as np
import pytest
import torch

from sertk.builtins.losses import CTC, ConcordanceLoss, CrossEntropy, MeanSquaredError
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
