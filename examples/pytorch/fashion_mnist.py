#!/usr/bin/python3
"""A PyTorch user's side of slimtrain's ONNX entrance, end to end.

1. Writes Fashion-MNIST as folders of PNG images, one subfolder per class
   (OUT/train/0-tshirt/00000.png, ..., OUT/test/...), as a user's own data would be.
2. Trains a small CNN on OUT/train in PyTorch, reading it with torchvision's
   ImageFolder (pixels in [0, 1]: ToTensor, no Normalize), and scores it on OUT/test.
3. Exports it with torch.onnx.export (default settings: eval mode, BN folded) to
   OUT/model.onnx, input 'image' (N, 1, 28, 28), output 'logits'.

Then, with slimtrain:
    slimtrain compress --from OUT/model.onnx --data OUT/train --val OUT/test --normalize none ...

Needs Debian's python3-torch, python3-torchvision and dataset-fashion-mnist:
    /usr/bin/python3 examples/pytorch/fashion_mnist.py OUT [--epochs 5] [--idx DIR]
"""
import argparse
import json
import os
import time

import torch
from PIL import Image
from torch import nn
from torchvision import datasets, transforms

from idx import read_idx

CLASSES = ['tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot']


def write_pngs(idx_dir, out):
    for split, prefix in (('train', 'train'), ('test', 't10k')):
        images = read_idx(os.path.join(idx_dir, f'{prefix}-images-idx3-ubyte.gz'))
        labels = read_idx(os.path.join(idx_dir, f'{prefix}-labels-idx1-ubyte.gz'))
        for c, name in enumerate(CLASSES):
            os.makedirs(os.path.join(out, split, f'{c}-{name}'), exist_ok=True)
        for i, (image, label) in enumerate(zip(images, labels)):
            Image.fromarray(image).save(os.path.join(out, split, f'{label}-{CLASSES[label]}', f'{i:05d}.png'))


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def as_tensors(folder):
    """the whole folder through ImageFolder + ToTensor, once"""
    ds = datasets.ImageFolder(folder, transform=transforms.Compose([transforms.Grayscale(), transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(ds, batch_size=1000)
    xs, ys = zip(*loader)
    return torch.cat(xs), torch.cat(ys), ds.classes


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000)) / len(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('out')
    p.add_argument('--idx', default='/usr/share/datasets/fashion-mnist')
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    times = {}
    t = time.time()
    if not os.path.isdir(os.path.join(a.out, 'test')):
        write_pngs(a.idx, a.out)
    times['write_pngs_s'] = time.time() - t

    t = time.time()
    x, y, classes = as_tensors(os.path.join(a.out, 'train'))
    tx, ty, _ = as_tensors(os.path.join(a.out, 'test'))
    times['read_folders_s'] = time.time() - t

    torch.manual_seed(a.seed)
    model = SmallCnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = a.epochs * (len(x) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.05, total_steps=steps)
    t = time.time()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x) - 63, 64):
            batch = order[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            opt.step()
            sched.step()
        print(f'epoch {epoch + 1}: test accuracy {accuracy(model, tx, ty):.4f}', flush=True)
    times['train_s'] = time.time() - t
    model.eval()
    test_accuracy = accuracy(model, tx, ty)
    torch.onnx.export(
        model, x[:1], os.path.join(a.out, 'model.onnx'), input_names=['image'], output_names=['logits'],
        dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}},
    )
    summary = {'torch': torch.__version__, 'classes': classes, 'test_accuracy': test_accuracy, 'epochs': a.epochs, 'seed': a.seed, **times}
    with open(os.path.join(a.out, 'pytorch.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))


if __name__ == '__main__':
    main()
