#!/usr/bin/python3
"""Builds the ONNX test fixtures of test/fixtures/onnx: small PyTorch models as
torchvision writes them (ResNet, MobileNetV2 and SqueezeNet variants at reduced
width, an SE/HardSwish/SiLU model, and files slimtrain must refuse), each exported
with torch.onnx.export the way a user would, with a seeded probe input and the
output PyTorch computed for it.

Needs Debian's python3-torch (no PyTorch is needed at test time):
    apt-get install python3-torch python3-torchvision
    /usr/bin/python3 scripts/onnx_fixtures.py [OUT_DIR]

Writes OUT_DIR/NAME.onnx, NAME.input.bin and NAME.output.bin (float32, little
endian, NCHW as PyTorch has them) and OUT_DIR/manifest.json describing them.
"""
import json
import os
import sys

import torch
from torch import nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'onnx')


def bn_stats(model, seed):
    """BN layers of a fresh model hold mean 0 / var 1; give them real statistics."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return model


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class TinyResNet(nn.Module):
    """torchvision's ResNet-18 layout at width 8: 7x7/2 stem, 3x3/2 max pool with padding 1."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        self.layer1 = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 8, 1))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2), BasicBlock(16, 16, 1))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class TinyMobileNetV2(nn.Module):
    """torchvision's MobileNetV2 building blocks at width 8, with its dropout + linear classifier."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(inplace=True)),
            InvertedResidual(8, 8, 1, 1),
            InvertedResidual(8, 12, 2, 4),
            InvertedResidual(12, 12, 1, 4),
            nn.Sequential(nn.Conv2d(12, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(inplace=True)),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


class Fire(nn.Module):
    def __init__(self, cin, squeeze, expand):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(x)), torch.relu(self.expand3x3(x))], 1)


class TinySqueezeNet(nn.Module):
    """torchvision's SqueezeNet 1.0 layout: max pools in ceil mode, a convolutional classifier."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 7, 2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(16, 4, 8),
            Fire(16, 4, 8),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(16, 8, 16),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(32, classes, 1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class SqueezeExcite(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.fc1 = nn.Conv2d(c, r, 1)
        self.fc2 = nn.Conv2d(r, c, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))


class OpsNet(nn.Module):
    """What user models add to the torchvision ones: SE gates (ReduceMean, HardSigmoid, Mul),
    HardSwish, SiLU, LeakyReLU, sigmoid, constant padding, average pooling with padding,
    normalisation inside the model, x.view(x.size(0), -1) after a spatial map (Gemm rows
    in NCHW order), a MatMul + Add classifier and a softmax."""

    def __init__(self, classes=5):
        super().__init__()
        self.register_buffer('mean', torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(8)
        self.se = SqueezeExcite(8, 4)
        self.conv2 = nn.Conv2d(8, 12, 3, 2, 0)
        self.conv3 = nn.Conv2d(12, 12, 3, 1, 1)
        self.pool = nn.AvgPool2d(3, 2, 1)
        self.conv4 = nn.Conv2d(12, 6, 1)
        self.fc = nn.Linear(6 * 4 * 4, 16)
        self.weight = nn.Parameter(torch.randn(16, classes) * 0.3)
        self.bias = nn.Parameter(torch.randn(classes) * 0.1)

    def forward(self, x):
        x = (x - self.mean) / 0.25
        x = nn.functional.hardswish(self.bn1(self.conv1(x)))
        x = self.se(x)
        x = nn.functional.pad(x, (1, 0, 1, 0))
        x = nn.functional.silu(self.conv2(x))
        x = nn.functional.leaky_relu(self.conv3(x), 0.1)
        x = torch.sigmoid(self.conv4(self.pool(x)))
        x = torch.relu(self.fc(x.view(x.size(0), -1)))
        return torch.softmax(x @ self.weight + self.bias, 1)


class TinyResNeXt(nn.Module):
    """ResNeXt bottlenecks (1x1, 3x3 with groups, 1x1) as torchvision builds them, cardinality 4"""

    def __init__(self, classes=10, groups=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.ModuleList([self.bottleneck(16, 16, 1, groups), self.bottleneck(16, 32, 2, groups)])
        self.shortcuts = nn.ModuleList([nn.Identity(), nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))])
        self.fc = nn.Linear(32, classes)

    @staticmethod
    def bottleneck(cin, cout, stride, groups):
        width = 16
        return nn.Sequential(
            nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        x = self.stem(x)
        for block, shortcut in zip(self.blocks, self.shortcuts):
            x = torch.relu(block(x) + shortcut(x))
        return self.fc(x.mean((2, 3)))


def channel_shuffle(x, groups):
    """torchvision's ShuffleNetV2 channel shuffle"""
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        half = cout // 2
        self.stride = stride
        if stride > 1:
            self.branch1 = nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                                         nn.Conv2d(cin, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU())
        self.branch2 = nn.Sequential(
            nn.Conv2d(cin if stride > 1 else half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(),
            nn.Conv2d(half, half, 3, stride, 1, groups=half, bias=False), nn.BatchNorm2d(half),
            nn.Conv2d(half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU())

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class TinyShuffleNet(nn.Module):
    """ShuffleNetV2 units as torchvision builds them (Split by chunk, channel shuffle), and a channel Slice"""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.units = nn.Sequential(ShuffleUnit(8, 16, 2), ShuffleUnit(16, 16, 1), ShuffleUnit(16, 16, 1))
        self.head = nn.Sequential(nn.Conv2d(12, 24, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU())
        self.fc = nn.Linear(24, classes)

    def forward(self, x):
        x = self.units(self.stem(x))
        return self.fc(self.head(x[:, 2:14]).mean((2, 3)))


class SequenceMlp(nn.Module):
    """a transformer-style MLP on an (N, T, F) sequence: GELU (erf and tanh forms), LayerNorm, as torch.onnx writes
    them out below opsets 17 (LayerNormalization) and 20 (Gelu)"""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 24)
        self.fc2 = nn.Linear(24, 16)
        self.norm = nn.LayerNorm(16)
        self.fc3 = nn.Linear(16, 20)
        self.out = nn.Linear(6 * 20, 4)

    def forward(self, x):
        y = self.norm(self.fc2(nn.functional.gelu(self.fc1(x))))
        y = nn.functional.gelu(self.fc3(y), approximate='tanh')
        return self.out(y.flatten(1))


class HardSwishWrittenOut(nn.Module):
    """hard-swish as several exporters write it, x * relu6(x + 3) / 6, in both groupings"""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = self.c1(x)
        y = y * torch.clamp(y + 3, 0, 6) / 6
        z = self.c2(y)
        z = z * (torch.clamp(z + 3, 0, 6) / 6)
        return self.fc(z.mean((2, 3)))


class DenseNetConcat(nn.Module):
    """DenseNet's first dense block as torch.onnx writes it: a Concat of one input, then of two"""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 4, 3, padding=1)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        y = torch.cat([torch.relu(self.c1(x))], 1)
        return self.fc(torch.cat([y, torch.relu(self.c2(y))], 1).mean((2, 3)))


class TinyFPN(nn.Module):
    """a segmentation-style neck: a stride-2 trunk, nearest upsampling added to the skip, ConvTranspose heads
    (k2/s2, k3/s2/p1/op1, k4/s2/p1), a 1x1 classifier per pixel"""

    def __init__(self, classes=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), nn.BatchNorm2d(8), nn.ReLU())
        self.down = nn.Sequential(nn.Conv2d(8, 12, 3, 2, 1), nn.BatchNorm2d(12), nn.ReLU())
        self.lateral = nn.Conv2d(12, 8, 1)
        self.up2 = nn.ConvTranspose2d(8, 6, 2, 2)
        self.up3 = nn.ConvTranspose2d(8, 6, 3, 2, padding=1, output_padding=1)
        self.up4 = nn.ConvTranspose2d(8, 6, 4, 2, padding=1)
        self.head = nn.Conv2d(18, classes, 1)

    def forward(self, x):
        skip = self.stem(x)
        y = self.down(skip)
        y = torch.relu(nn.functional.interpolate(self.lateral(y), scale_factor=2, mode='nearest') + skip)
        small = nn.functional.max_pool2d(y, 2)
        z = torch.cat([self.up2(small), self.up3(small), self.up4(small)], 1)
        return self.head(torch.relu(z))


class OutputPadding(nn.Module):
    """ConvTranspose whose output_padding reaches past a 'valid' transposed convolution (k2/s2 and k3/s2 with
    output_padding 1): the rows there hold the bias only"""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.up2 = nn.ConvTranspose2d(4, 3, 2, 2, output_padding=1)
        self.up3 = nn.ConvTranspose2d(4, 3, 3, 2, output_padding=1)
        self.head = nn.Conv2d(6, 2, 1)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return self.head(torch.relu(torch.cat([self.up2(y)[:, :, :-1, :-1], self.up3(y)[:, :, :-2, :-2]], 1)))


class LayoutOps(nn.Module):
    """an input only reshaped to itself (x.view(-1, 1, H, W), as MNIST exports do), and height and width swapped
    by Transpose on a one-channel map and on a map of three"""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 1, 3, padding=1)
        self.c3 = nn.Conv2d(1, 3, (3, 1), padding=(1, 0))
        self.fc = nn.Linear(3 * 12 * 10, 5)

    def forward(self, x):
        y = self.c2(torch.relu(self.c1(x.view(-1, 1, 12, 10))))
        y = self.c3(y.transpose(2, 3))
        return self.fc(torch.relu(y.transpose(2, 3)).flatten(1))


class NhwcSegmenter(nn.Module):
    """takes and gives NHWC maps, turned to NCHW and back by Transposes, as tf2onnx writes TensorFlow and Keras models"""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 6, 3, padding=1)
        self.head = nn.Conv2d(6, 2, 1)

    def forward(self, x):
        y = torch.relu(self.c1(x.permute(0, 3, 1, 2)))
        return self.head(torch.relu(self.c2(y))).permute(0, 2, 3, 1)


class Upsampling(nn.Module):
    def __init__(self, mode='bilinear'):
        super().__init__()
        self.mode = mode
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.out = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        y = self.conv(x)
        if self.mode == 'size':  # an output size computed from the input's shape, as interpolate(size=...) is used
            return self.out(torch.relu(nn.functional.interpolate(y, size=(x.shape[2] * 2, x.shape[3] * 3), mode='nearest')))
        if self.mode == 'mixed':  # what segmentation heads do: bilinear to a size (align_corners both ways), 1.75x, down
            a = nn.functional.interpolate(y, size=(13, 11), mode='bilinear', align_corners=False)
            b = nn.functional.interpolate(y, size=(13, 11), mode='bilinear', align_corners=True)
            c = nn.functional.interpolate(y, scale_factor=1.75, mode='nearest')[:, :, :13, :11]
            d = nn.functional.interpolate(nn.functional.interpolate(y, scale_factor=0.5, mode='bilinear'), size=(13, 11), mode='bilinear')
            return self.out(torch.relu(a + b + c + d))
        return self.out(torch.relu(nn.functional.interpolate(y, scale_factor=2, mode=self.mode)))


class AtrousPooling(nn.Module):
    """what DeepLab's and a PAN's heads do at output stride 16: a dilated depthwise convolution (BN kept), and the
    image pooling branch (global pool, 1x1 conv, ReLU) spread back over the map by a bilinear resize from 1x1"""
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.atrous = nn.Sequential(nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 4, 1), nn.ReLU())
        self.out = nn.Conv2d(12, 2, 1)

    def forward(self, x):
        y = self.atrous(self.stem(x))
        p = nn.functional.interpolate(self.pool(y), size=y.shape[2:], mode='bilinear', align_corners=True)
        return self.out(torch.cat([y, p], 1))


class Refused(nn.Module):
    """one pattern slimtrain cannot import exactly, after a convolution"""

    def __init__(self, pattern):
        super().__init__()
        self.pattern = pattern
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.norm = nn.InstanceNorm2d(4)
        self.up = nn.ConvTranspose2d(4, 4, 3, stride=2, dilation=2)

    def forward(self, x):
        y = self.conv(x)
        if self.pattern == 'bicubic':
            return nn.functional.interpolate(y, scale_factor=2, mode='bicubic')
        if self.pattern == 'batch_transpose':
            return y.permute(1, 0, 2, 3)
        if self.pattern == 'odd_shuffle':
            n, c, h, w = y.size()
            return y.view(n, 2, c // 2, h, w).permute(0, 2, 1, 4, 3).reshape(n, c, w, h)
        if self.pattern == 'instance_norm':
            return self.norm(y)
        if self.pattern == 'dilated_transpose':
            return self.up(y)
        return torch.erf(y)


class SqueezeHeads(nn.Module):
    """Squeeze and Unsqueeze, as tf2onnx writes a Keras global pool and hand-written
    heads have them: an SE gate pooled and squeezed to (N, C) one axis at a time, its gate
    unsqueezed back (a negative axis), a row squeezed and unsqueezed into a column for a
    convolution, and a classifier on a pool squeezed without axes."""

    def __init__(self, classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1)
        self.fc1 = nn.Linear(8, 4)
        self.fc2 = nn.Linear(4, 8)
        self.conv2 = nn.Conv2d(8, 12, 3, 2, 1)
        self.conv3 = nn.Conv2d(12, 6, (3, 1), 1, (1, 0))
        self.fc = nn.Linear(6, classes)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        s = nn.functional.adaptive_avg_pool2d(x, 1).squeeze(3).squeeze(2)
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))
        x = torch.relu(self.conv2(x * s.unsqueeze(2).unsqueeze(-1)))
        # a row squeezed to a sequence and unsqueezed to a column for a convolution, as tf2onnx writes Conv1D
        x = nn.functional.adaptive_max_pool2d(x, (1, 6)).squeeze(2).unsqueeze(-1)
        return self.fc(nn.functional.adaptive_avg_pool2d(torch.relu(self.conv3(x)), 1).squeeze())


def export(name, model, shape, training=torch.onnx.TrainingMode.EVAL, opset=13, description='', seed=0, prunable=None, free_size=False,
           layout='nchw'):
    torch.manual_seed(seed)
    model = bn_stats(model, seed).eval()
    x = torch.randn(2, *shape[1:], generator=torch.Generator().manual_seed(seed + 1))
    path = os.path.join(OUT, f'{name}.onnx')
    torch.onnx.export(
        model, x, path, opset_version=opset, training=training, input_names=['image'], output_names=['logits'],
        dynamic_axes={'image': {0: 'batch', 2: 'height', 3: 'width'} if free_size else {0: 'batch'}, 'logits': {0: 'batch'}},
    )
    # the probe: inference (a training-mode export traces in train mode, updating BN's statistics first)
    with torch.no_grad():
        y = model.eval()(x)
    x.numpy().astype('<f4').tofile(os.path.join(OUT, f'{name}.input.bin'))
    y.numpy().astype('<f4').tofile(os.path.join(OUT, f'{name}.output.bin'))
    entry = {'name': name, 'description': description, 'opset': opset, 'input': list(x.shape), 'output': list(y.shape)}
    if layout != 'nchw':
        entry['layout'] = layout
    return entry if prunable is None else {**entry, 'prunable': prunable}


def main():
    os.makedirs(OUT, exist_ok=True)
    keep = torch.onnx.TrainingMode.PRESERVE
    torch.manual_seed(0)
    good = [
        export('resnet', TinyResNet(), [2, 3, 32, 32], description='ResNet-18 layout, BN folded (default export)'),
        export('resnet_bn', TinyResNet(), [2, 3, 32, 32], training=keep, opset=14, description='ResNet-18 layout, BN kept'),
        export('mobilenetv2', TinyMobileNetV2(), [2, 3, 32, 32], opset=11, description='MobileNetV2 blocks, BN folded'),
        export('mobilenetv2_bn', TinyMobileNetV2(), [2, 3, 32, 32], training=keep, opset=17, description='MobileNetV2 blocks, BN kept'),
        export('mobilenetv2_train', TinyMobileNetV2(), [2, 3, 32, 32], training=torch.onnx.TrainingMode.TRAINING, opset=14,
               description='MobileNetV2 blocks, exported in training mode'),
        export('squeezenet', TinySqueezeNet(), [2, 3, 35, 35], opset=12, description='SqueezeNet 1.0 layout, ceil-mode pools'),
        export('opsnet', OpsNet(), [2, 3, 16, 16], training=keep, opset=14, description='SE, HardSwish, SiLU, view, MatMul'),
        # older opsets, as other exporters and older files have them (Clip, Pad, Unsqueeze with attributes)
        export('resnet_opset9', TinyResNet(), [2, 3, 32, 32], opset=9, description='ResNet-18 layout, BN folded'),
        export('mobilenetv2_bn_opset7', TinyMobileNetV2(), [2, 3, 32, 32], training=keep, opset=7,
               description='MobileNetV2 blocks, BN kept, Clip with attributes'),
        export('squeezenet_opset10', TinySqueezeNet(), [2, 3, 35, 35], opset=10, description='SqueezeNet 1.0 layout, ceil-mode pools'),
        # Squeeze and Unsqueeze with attributes (before opset 13) and with inputs: conv1's 8 channels (tied to the
        # gate), fc1's 4, conv2's 12 (through the row turned column) and conv3's 6
        export('squeeze_heads_opset11', SqueezeHeads(), [2, 3, 12, 12], opset=11, description='Squeeze and Unsqueeze with attributes',
               prunable=8 + 4 + 12 + 6),
        export('squeeze_heads', SqueezeHeads(), [2, 3, 12, 12], description='Squeeze and Unsqueeze with their axes as inputs',
               prunable=8 + 4 + 12 + 6),
        # every channel of both convolutions stays prunable: the constant of relu6(x + 3) / 6 meets x = 0
        export('hardswish_written', HardSwishWrittenOut(), [2, 3, 16, 16], description='hard-swish written out', prunable=16),
        export('densenet_concat', DenseNetConcat(), [2, 3, 16, 16], description='one-input Concat (DenseNet)', prunable=12),
        # stem 8 and lateral 8 tied by the Add, down 12, three ConvTranspose heads of 6
        export('fpn', TinyFPN(), [2, 3, 16, 16], description='Resize (nearest) and ConvTranspose neck', prunable=8 + 12 + 18),
        export('upsample_opset9', Upsampling('nearest'), [2, 3, 8, 8], opset=9, description='Upsample (opset 9), nearest',
               prunable=4),
        export('upsample_sizes', Upsampling('size'), [2, 3, 8, 8], description='Resize by sizes computed from the shape (x2, x3)',
               prunable=4),
        export('nhwc_io', NhwcSegmenter(), [2, 12, 12, 3], description='NHWC in and out through Transposes (as tf2onnx writes)',
               prunable=8 + 6, layout='flat'),
        # the stem's 16 channels (tied to the first block's output), 4 cardinality groups in each block, the second
        # block's 32 (tied to its shortcut)
        export('resnext', TinyResNeXt(), [2, 3, 16, 16], training=keep, description='ResNeXt bottlenecks (grouped 3x3)',
               prunable=16 + 4 + 4 + 32),
        export('shufflenet', TinyShuffleNet(), [2, 3, 32, 32], training=keep, description='ShuffleNetV2 units (Split, channel shuffle), channel Slice',
               prunable=88),
        export('shufflenet_opset11', TinyShuffleNet(), [2, 3, 32, 32], opset=11, description='ShuffleNetV2 units, Split with an attribute',
               prunable=88),
        # fc1's 24 units (GELU is zero at zero) and fc3's 20; fc2's feed the LayerNorm
        export('sequence_mlp', SequenceMlp(), [2, 6, 16], description='GELU (erf, tanh) and LayerNorm written out',
               prunable=24 + 20, layout='flat'),
        export('sequence_mlp_opset17', SequenceMlp(), [2, 6, 16], opset=17, description='LayerNormalization operator',
               prunable=24 + 20, layout='flat'),
        # conv's 4 channels, the transposes' 3 + 3
        export('output_padding', OutputPadding(), [2, 3, 6, 6], description='ConvTranspose output_padding past the valid output',
               prunable=4 + 6),
        # c1's 4 channels and c2's one (a map's Transpose of height and width keeps channels last); c3's 3 go into
        # ONNX's order for the flatten, a Permute that moves the channel axis
        export('layout_ops', LayoutOps(), [2, 1, 12, 10], description='an input reshaped to itself, Transposes of height and width',
               prunable=4 + 1),
        export('upsample', Upsampling(), [2, 3, 8, 8], description='bilinear Resize with half-pixel centres (PyTorch align_corners=False)',
               prunable=4),
        export('resize_mixed', Upsampling('mixed'), [2, 3, 8, 8], opset=11, description='bilinear and nearest Resize to sizes, by 1.75 and 0.5',
               prunable=4),
        # the stem's 8 filters with the depthwise channels they feed, and the pooling branch's 4
        export('atrous_pooling', AtrousPooling(), [2, 3, 12, 12], training=keep,
               description='a dilated depthwise convolution, image pooling resized from 1x1 (DeepLab, PAN)', prunable=8 + 4),
    ]
    # free height and width, as detection and segmentation exports have them: imported with --input-shape
    free = [
        export('resnet_free_size', TinyResNet(), [2, 3, 40, 48], opset=11, description='ResNet-18 layout, free height and width',
               free_size=True),
    ]
    # refused, each with the words its error must have
    refused = [
        {**export(f'refused_{pattern}', Refused(pattern), [2, 3, 8, 8]), 'error': error}
        for pattern, error in [
            ('bicubic', "\\(Resize\\): resizing in mode 'cubic' is not supported; nearest and linear are"),
            ('batch_transpose', "\\(Transpose\\): transposing with perm \\[1,0,2,3\\] is not supported: it moves the batch"),
            ('odd_shuffle', "\\(Transpose\\): transposing a 5-D view of the channels with perm \\[0,2,1,4,3\\] is not supported; "
                            "a channel shuffle \\(perm \\[0, 2, 1, 3, 4\\]\\) is"),
            ('instance_norm', 'operator InstanceNormalization is not supported. use BatchNorm2d, or remove it'),
            ('dilated_transpose', '\\(ConvTranspose\\): dilated transposed convolutions are not supported'),
            ('erf', 'operator Erf is not supported'),
        ]
    ]
    for entry in refused:  # nothing runs them: no probe
        for probe in ('input', 'output'):
            os.remove(os.path.join(OUT, f"{entry['name']}.{probe}.bin"))
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'models': good, 'free': free, 'refused': refused}, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
