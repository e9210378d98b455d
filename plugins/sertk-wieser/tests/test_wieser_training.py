"""The alternating per-head update of §2.1.1."""
import torch

from sertk import Batch, FeatureInfo, LabelSpace
from sertk_wieser.models import ELoR, FTR

DIMS = LabelSpace({}, ("arousal", "valence"))
RAW = {"raw": FeatureInfo("raw", 1, "frame", 16000.0)}


def sgd_step(model, optimizer, l2, record):
    """The trainer's step contract: loss + l2·Σ‖w‖² over penalized_parameters, backward, step, zero grads."""
    def step(loss):
        (loss + l2 * sum(p.pow(2).sum() for p in model.penalized_parameters())).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        record.append(snapshot(model))
    return step


def cross_entropy(output, target, mask=None):
    return torch.nn.functional.cross_entropy(output, target)


def snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def changed(before, after, prefix):
    return [n for n in before if n.startswith(prefix) and not torch.equal(before[n], after[n])]


def batch_of(n=4, length=400):
    g = torch.Generator().manual_seed(1)
    return Batch([f"u{i}" for i in range(n)], {"raw": torch.randn(n, length, 1, generator=g)},
                 targets={"valence": torch.randint(0, 5, (n,), generator=g),
                          "arousal": torch.randint(0, 5, (n,), generator=g)})


def test_each_half_step_moves_the_cnn_and_only_the_active_head():
    torch.manual_seed(0)
    model = ELoR(RAW, DIMS, filters=[4, 4, 4], kernels=[8, 4, 4], pools=[2, 2, 2], hidden=[8, 8])
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    losses = {h: cross_entropy for h in ("valence", "arousal")}
    record = []
    step = sgd_step(model, optimizer, l2=1e-2, record=record)
    batch = batch_of()
    model.training_step(batch, losses, step)  # fills both heads' momentum buffers
    orders = []
    for _ in range(6):
        start = snapshot(model)
        record.clear()
        per_head = model.training_step(batch, losses, step)
        assert set(per_head) == {"valence", "arousal"} and len(record) == 2
        first = "valence" if changed(start, record[0], "mlps.valence") else "arousal"
        second = "arousal" if first == "valence" else "valence"
        orders.append(first)
        for before, after, active, idle in [(start, record[0], first, second), (record[0], record[1], second, first)]:
            assert changed(before, after, f"mlps.{active}."), "the active head must be updated"
            assert changed(before, after, "cnn."), "the shared CNN must be updated"
            assert not changed(before, after, f"mlps.{idle}."), "the inactive head must not move"
    assert set(orders) == {"valence", "arousal"}, "the head order is drawn per batch"
    assert all(p.requires_grad for p in model.parameters())


def test_head_order_repeats_under_the_same_seed():
    def orders(seed):
        torch.manual_seed(seed)
        model = FTR({"x": FeatureInfo("x", 3, "utterance")}, DIMS, functionals_key="x", hidden=[4, 4])
        seen = []
        losses = {h: (lambda out, y, mask, h=h: seen.append(h) or cross_entropy(out, y))
                  for h in ("valence", "arousal")}
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        batch = Batch(["a", "b"], {"x": torch.randn(2, 3)},
                      targets={"valence": torch.tensor([0, 1]), "arousal": torch.tensor([2, 3])})
        for _ in range(8):
            model.training_step(batch, losses, sgd_step(model, optimizer, 0.0, []))
        return seen
    assert orders(3) == orders(3)
    assert orders(3) != orders(4)


def test_alternating_training_learns_both_dimensions():
    torch.manual_seed(0)
    n = 120
    x = torch.randn(n, 6)
    targets = {"valence": (x[:, 0] > 0).long() * 4, "arousal": (x[:, 1] > 0).long() * 4}
    model = FTR({"f": FeatureInfo("f", 6, "utterance")}, DIMS, functionals_key="f", hidden=[16, 16], dropout=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, nesterov=True)
    losses = {h: cross_entropy for h in targets}
    step = sgd_step(model, optimizer, 1e-4, [])
    model.train()
    for epoch in range(30):
        for i in range(0, n, 40):
            model.training_step(Batch([], {"f": x[i:i + 40]}, targets={k: v[i:i + 40] for k, v in targets.items()}),
                                losses, step)
    model.eval()
    with torch.no_grad():
        out = model({"f": x})
    for head, y in targets.items():
        assert (out[head].argmax(1) == y).float().mean() > 0.9
