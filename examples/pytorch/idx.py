"""Reading the IDX files MNIST and Fashion-MNIST ship in (raw or gzipped), for the examples beside this file."""
import gzip

import numpy as np


def read_idx(path):
    with gzip.open(path) if path.endswith('.gz') else open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)
