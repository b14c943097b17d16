"""Timings of reglab.training.augment on batches of 64: 2-D points against the bare NumPy
minimum, digits transforms against per-image scipy.ndimage loops.

Run: python benchmarks/augment_timing.py
"""
import timeit, numpy as np, scipy.ndimage as nd
from reglab.training.augment import make_augmenter
from reglab.data import load_digits, make_circles
def t(fn, n):
    return min(timeit.repeat(fn, number=n, repeat=7)) / n * 1e6
c = make_circles(400, seed=0); Xp, yp = c.X_train[:64], c.y_train[:64]
g = np.random.default_rng(0)
signs = np.array([(1., 1.), (-1, 1), (1, -1), (-1, -1)])
def rot_min():
    th = g.uniform(-30, 30, 64) * (np.pi / 180); co, si = np.cos(th), np.sin(th)
    out = np.empty_like(Xp); out[:, 0], out[:, 1] = co * Xp[:, 0] - si * Xp[:, 1], si * Xp[:, 0] + co * Xp[:, 1]
    return out
mins = {"jitter:0.05": lambda: Xp + 0.05 * g.standard_normal(Xp.shape),
        "reflect": lambda: Xp * signs[(g.random(64) * 4).astype(np.intp)],
        "rotate:30": rot_min}
print("2-D points, batch 64 (circles):")
for spec, fn in mins.items():
    a = make_augmenter(spec, symmetries=c.symmetries, dataset_name=c.name)
    b = t(fn, 20000); v = t(lambda: a.transform(Xp, yp, g), 20000)
    print(f"  {spec:12s} numpy-minimum {b:6.2f} us  transform {v:6.2f} us  overhead {v-b:+.2f} us")
a = make_augmenter("jitter:0.05,reflect,rotate:30", symmetries=c.symmetries)
print(f"  chain jitter,reflect,rotate {t(lambda: a.transform(Xp, yp, g), 20000):.2f} us")
d = load_digits(); Xd, yd = d.X_train[:64], d.y_train[:64]
print("digits 8x8, batch 64:")
for spec in ("jitter:0.05", "shift:1", "rotate:10", "crop:1", "noise:0.05", "contrast:0.2",
             "jitter:0.02,shift:1,rotate:10,crop:1,noise:0.05,contrast:0.3"):
    a = make_augmenter(spec, image_shape=(8, 8))
    print(f"  {spec:58s} {t(lambda: a.transform(Xd, yd, g), 300):8.1f} us")
imgs = Xd.reshape(-1, 8, 8)
ang = g.uniform(-10, 10, 64)
print(f"  reference per-image loop scipy.ndimage.rotate: {t(lambda: [nd.rotate(x, q, reshape=False, order=1, mode='grid-constant') for x, q in zip(imgs, ang)], 100):8.1f} us")
print(f"  reference per-image loop scipy.ndimage.zoom (crop 1): {t(lambda: [nd.zoom(x[1:7, 0:7], (8/6, 8/7), order=1) for x in imgs], 100):8.1f} us")
print(f"  reference per-image loop scipy.ndimage.shift: {t(lambda: [nd.shift(x, (1, -1), order=0) for x in imgs], 100):8.1f} us")
