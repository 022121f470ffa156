#!/usr/bin/python3
"""A model without classes, compressed without labels: a PyTorch user's side.

1. Trains a small convolutional denoising autoencoder on Fashion-MNIST in PyTorch
   (noisy image in, clean image out, sigmoid output: a map, not class scores).
2. Exports it with torch.onnx.export to OUT/denoiser.onnx, input 'image'
   (N, 1, 28, 28, pixels in [0, 1]), output 'clean' of the same shape.
3. Writes N training images as PNG files straight into OUT/images, with no class
   subfolders: unlabelled data, as a user of such a model has it.

Then, with slimtrain (no labels read; the slim model is judged by its agreement
with the original on held-out images):
    slimtrain compress --from OUT/denoiser.onnx --data OUT/images --normalize none \\
      --distill-only --optimizer hesso --target-macs-ratio 2 --epochs 5 --out OUT/slim

Needs Debian's python3-torch and dataset-fashion-mnist:
    /usr/bin/python3 examples/pytorch/denoiser.py OUT [--epochs 2] [--images 10000]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from PIL import Image
from torch import nn

from idx import read_idx


def block(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(*block(1, 32), *block(32, 64, 2), *block(64, 64, 2))
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2), *block(64, 64), nn.Upsample(scale_factor=2), *block(64, 32),
            nn.Conv2d(32, 1, 3, padding=1), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('out')
    p.add_argument('--idx', default='/usr/share/datasets/fashion-mnist')
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--images', type=int, default=10000)
    p.add_argument('--noise', type=float, default=0.2)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    train = read_idx(os.path.join(a.idx, 'train-images-idx3-ubyte.gz'))
    test = read_idx(os.path.join(a.idx, 't10k-images-idx3-ubyte.gz'))
    x = torch.from_numpy(train.astype(np.float32) / 255).unsqueeze(1)
    tx = torch.from_numpy(test.astype(np.float32) / 255).unsqueeze(1)

    torch.manual_seed(a.seed)
    model = Denoiser()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    noisy = lambda batch: (batch + a.noise * torch.randn_like(batch)).clamp(0, 1)
    t = time.time()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x) - 127, 128):
            batch = x[order[i:i + 128]]
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(noisy(batch)), batch)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            test_mse = nn.functional.mse_loss(model(noisy(tx[:2000])), tx[:2000]).item()
        print(f'epoch {epoch + 1}: test MSE (noisy in, clean out) {test_mse:.5f}', flush=True)
    train_s = time.time() - t

    os.makedirs(a.out, exist_ok=True)
    torch.onnx.export(
        model, x[:1], os.path.join(a.out, 'denoiser.onnx'), input_names=['image'], output_names=['clean'],
        dynamic_axes={'image': {0: 'batch'}, 'clean': {0: 'batch'}},
    )
    images = os.path.join(a.out, 'images')
    os.makedirs(images, exist_ok=True)
    for i, image in enumerate(train[:a.images]):
        Image.fromarray(image).save(os.path.join(images, f'{i:05d}.png'))
    summary = {'torch': torch.__version__, 'epochs': a.epochs, 'seed': a.seed, 'noise': a.noise,
               'test_mse': test_mse, 'train_s': train_s, 'images': a.images}
    with open(os.path.join(a.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
