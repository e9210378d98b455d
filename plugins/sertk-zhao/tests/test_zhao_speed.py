"""The faster LFLB computation gives the paper's conv → BN → ELU → max-pool values and gradients."""
import pytest
import torch
import torch.nn.functional as F

from sertk import FeatureInfo, LabelSpace
from sertk_zhao.lflb import LFLB, SequenceLFLB, pool_window
from sertk_zhao.models import CNN1DLSTM, CNN2DLSTM

LABELS = LabelSpace(classes={"emotion": ("anger", "boredom", "neutral")})


def paper_order(block: LFLB, x: torch.Tensor) -> torch.Tensor:
    """Conv → BN → ELU → max-pool, written out in the paper's order."""
    x = F.elu(block.norm(block.conv(x)))
    return block._max_pool(x, tuple(pool_window(size, p) for size, p in zip(x.shape[2:], block.pool)))


@pytest.mark.parametrize("dims, shape, pool", [(1, (4, 3, 50), (4,)), (2, (4, 3, 12, 10), (2, 4))])
def test_pooling_before_elu_matches_the_paper_order_in_values_and_gradients(dims, shape, pool):
    torch.manual_seed(0)
    block = LFLB(dims, 3, 5, 3, pool).train()
    x = torch.randn(shape, requires_grad=True)
    fast = block(x)
    grads = torch.autograd.grad(fast.pow(2).sum(), [x, *block.parameters()])
    slow = paper_order(block, x)
    expected = torch.autograd.grad(slow.pow(2).sum(), [x, *block.parameters()])
    assert fast.shape == slow.shape and torch.equal(fast, slow)
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert fast.min() >= -1.0  # ELU applied after pooling still bounds the output below by -1


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # the reference's nn.Conv1d
@pytest.mark.parametrize("steps, kernel, pool", [(50, 3, 4), (37, 4, 4), (3, 5, 4)])
def test_sequence_block_matches_the_paper_order_on_the_transposed_input(steps, kernel, pool):
    torch.manual_seed(0)
    block = SequenceLFLB(3, 5, kernel, pool).train()
    x = torch.randn(4, 3, steps, requires_grad=True)  # (B, C, T), the paper-order block's layout
    fast = block(x.transpose(1, 2))  # (B, T', C)
    grads = torch.autograd.grad(fast.pow(2).sum(), [x, *block.parameters()])
    mean, var = block.norm.running_mean.clone(), block.norm.running_var.clone()
    block.norm.reset_running_stats()
    slow = paper_order(block, x)
    expected = torch.autograd.grad(slow.pow(2).sum(), [x, *block.parameters()])
    assert fast.shape == (4, max(1, steps // pool), 5)
    torch.testing.assert_close(fast, slow.transpose(1, 2), rtol=1e-5, atol=1e-6)
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    block.norm.reset_running_stats()
    paper_order(block, x)
    torch.testing.assert_close(mean, block.norm.running_mean)  # running statistics updated alike
    torch.testing.assert_close(var, block.norm.running_var)


def test_sequence_blocks_train_under_autocast():
    """Mixed precision (bfloat16 on the CPU, as float16/bfloat16 on a GPU): the custom
    backward gets a lower-precision gradient and still gives float32 gradients close to
    full precision's."""
    torch.manual_seed(0)
    block = SequenceLFLB(4, 6, 3, 2).train()
    x = torch.randn(2, 40, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = block(x).float().pow(2).sum()
    low = torch.autograd.grad(loss, list(block.parameters()))  # backward outside autocast, as trainers do
    full = torch.autograd.grad(block(x).pow(2).sum(), list(block.parameters()))
    for got, want in zip(low, full):
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, want, rtol=0.1, atol=0.5)


def test_1d_network_evaluates_like_the_paper_order_blocks():
    torch.manual_seed(0)
    model = CNN1DLSTM({"raw": FeatureInfo("raw", 1, "frame", 16000.0)}, LABELS, filters=[4, 4, 8, 8],
                      lstm_units=8).train()
    x = torch.randn(3, 1000, 1)
    model({"raw": x})  # one training pass moves the running statistics
    model.eval()
    with torch.no_grad():
        maps = x.transpose(1, 2)
        for block in model.blocks:
            maps = paper_order(block, maps)
        _, (hidden, _) = model.lstm(maps.transpose(1, 2))
        torch.testing.assert_close(model({"raw": x})["emotion"], model.classifier(hidden[-1]), rtol=1e-5, atol=1e-6)


def test_2d_network_keeps_channels_last_maps_and_the_plain_layout_outputs():
    torch.manual_seed(0)
    model = CNN2DLSTM({"logmel": FeatureInfo("logmel", 32, "frame")}, LABELS, filters=[4, 4, 8, 8],
                      time_pools=[2, 2, 2, 1], lstm_units=8).train()
    assert all(block.conv.weight.is_contiguous(memory_format=torch.channels_last) for block in model.blocks)
    assert not model.blocks[1].conv.weight.is_contiguous()  # (the first, one input channel, is both)
    x = torch.randn(3, 20, 32)
    fast = model({"logmel": x})["emotion"]
    model.blocks.to(memory_format=torch.contiguous_format)
    plain = model({"logmel": x})["emotion"]
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-6)


def test_channels_last_survives_a_state_dict_round_trip():
    torch.manual_seed(0)
    model = CNN2DLSTM({"logmel": FeatureInfo("logmel", 32, "frame")}, LABELS, filters=[4, 4, 8, 8], lstm_units=8)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.blocks[0].conv.weight.add_(1.0)
    model.load_state_dict(state)
    assert torch.equal(model.blocks[0].conv.weight, state["blocks.0.conv.weight"])
    assert model.blocks[0].conv.weight.is_contiguous(memory_format=torch.channels_last)
