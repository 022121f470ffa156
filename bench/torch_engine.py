"""PyTorch reference for `npm run bench:engine -- --compare-torch`.

Builds the zoo architecture named on the command line: the small ones the way
slimtrain's zoo does (same layers, He-normal / Glorot-uniform initialisation, BN
momentum 0.1 = Keras 0.9, epsilon 1e-5), the ImageNet ones from torchvision (the same
layers and trainable parameters as slimtrain's; Inception-v3 without its auxiliary
head and, as Keras builds it, without BN scales). Then times SGD training steps
(Nesterov momentum 0.9, weight decay 5e-4, cross-entropy) and inference batches, and
prints one JSON line with the peak resident memory after training.
PyTorch is a benchmark reference only; slimtrain never imports it.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(cin, cout, k=3, stride=1, padding='same', bias=True):
    pad = k // 2 if padding == 'same' else 0
    layer = nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=bias)
    nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def dense(fin, fout, relu):
    layer = nn.Linear(fin, fout)
    if relu:
        nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')
    else:
        nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def bn(c):
    return nn.BatchNorm2d(c, momentum=0.1, eps=1e-5)


def mlp(shape, classes):
    h, w, c = shape
    return nn.Sequential(nn.Flatten(), dense(h * w * c, 300, True), nn.ReLU(),
                         dense(300, 100, True), nn.ReLU(), dense(100, classes, False))


def lenet5(shape, classes):
    h, w, c = shape
    fh, fw = ((h // 2) - 4) // 2, ((w // 2) - 4) // 2
    return nn.Sequential(conv(c, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                         conv(6, 16, 5, padding='valid'), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), dense(16 * fh * fw, 120, True), nn.ReLU(),
                         dense(120, 84, True), nn.ReLU(), dense(84, classes, False))


def vgg_small(shape, classes):
    h, w, c = shape
    layers, cin = [], c
    for f in (32, 64, 128):
        layers += [conv(cin, f), bn(f), nn.ReLU(), nn.MaxPool2d(2)]
        cin, h, w = f, h // 2, w // 2
    return nn.Sequential(*layers, nn.Flatten(), dense(128 * h * w, classes, False))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        # TensorFlow 'same' padding with stride 2 pads bottom/right only; the MACs are equal
        self.conv1, self.bn1 = conv(cin, cout, stride=stride, bias=False), bn(cout)
        self.conv2, self.bn2 = conv(cout, cout, bias=False), bn(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(conv(cin, cout, 1, stride, bias=False), bn(cout))

    def forward(self, x):
        r = F.relu(self.bn1(self.conv1(x)))
        r = self.bn2(self.conv2(r))
        return F.relu(r + (x if self.shortcut is None else self.shortcut(x)))


class ResNet(nn.Module):
    def __init__(self, shape, classes, n):
        super().__init__()
        c = shape[2]
        self.stem = nn.Sequential(conv(c, 16, bias=False), bn(16), nn.ReLU())
        blocks, cin = [], 16
        for s, f in enumerate((16, 32, 64)):
            for k in range(n):
                blocks.append(Block(cin, f, 2 if s > 0 and k == 0 else 1))
                cin = f
        self.blocks = nn.Sequential(*blocks)
        self.fc = dense(64, classes, False)

    def forward(self, x):
        y = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def without_bn_scale(model):
    """BN as Keras's scale=False: the bias (beta) stays, the weight (gamma) goes."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            del m.weight
            m.register_parameter('weight', None)
    return model


def torchvision_model(name):
    def build(shape, classes):
        import torchvision.models as tv
        if name == 'inception_v3':
            return without_bn_scale(tv.inception_v3(num_classes=classes, aux_logits=False, init_weights=True))
        return getattr(tv, name)(num_classes=classes)
    return build


MODELS = {
    'mobilenetv2': torchvision_model('mobilenet_v2'),
    'resnet50': torchvision_model('resnet50'),
    'inceptionv3': torchvision_model('inception_v3'),
    'efficientnet-b0': torchvision_model('efficientnet_b0'),
    'densenet121': torchvision_model('densenet121'),
    'mlp': mlp,
    'lenet5': lenet5,
    'vgg-small': vgg_small,
    'resnet20': lambda s, c: ResNet(s, c, 3),
    'resnet56': lambda s, c: ResNet(s, c, 9),
}


def rate(fn, seconds):
    fn()
    fn()
    runs, start = 0, time.perf_counter()
    while runs < 3 or time.perf_counter() - start < seconds:
        fn()
        runs += 1
    return runs / (time.perf_counter() - start), runs


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True, choices=sorted(MODELS))
    p.add_argument('--input', default='28x28x1')
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--classes', type=int, default=10)
    p.add_argument('--seconds', type=float, default=4)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--no-mkldnn', action='store_true', help='im2col + BLAS convolutions instead of oneDNN')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    shape = tuple(int(d) for d in a.input.split('x'))
    model = MODELS[a.model](shape, a.classes)
    x = torch.randn(a.batch_size, shape[2], shape[0], shape[1])
    labels = torch.randint(0, a.classes, (a.batch_size,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)

    def train_step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), labels).backward()
        opt.step()

    model.train()
    train, train_runs = rate(train_step, a.seconds)
    # ru_maxrss is in KiB on Linux
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.eval()
    with torch.no_grad():
        infer, infer_runs = rate(lambda: model(x), a.seconds)
    print(json.dumps({
        'model': a.model,
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'mkldnn': torch.backends.mkldnn.enabled,
        'parameters': sum(p.numel() for p in model.parameters()),
        'trainImagesPerSecond': round(train * a.batch_size, 1),
        'inferenceImagesPerSecond': round(infer * a.batch_size, 1),
        'trainPeakRssMiB': round(peak_mib),
        'trainSteps': train_runs,
        'inferenceBatches': infer_runs,
    }))


if __name__ == '__main__':
    main()
