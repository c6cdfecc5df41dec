"""The parity measure every test uses: max absolute difference, in float64."""

import numpy as np
from keras import ops


def max_abs_diff(a, b):
    a, b = (np.asarray(ops.convert_to_numpy(x), dtype=np.float64) for x in (a, b))
    return float(np.max(np.abs(a - b)))
