"""torch_step -- one training step, pipelab beside PyTorch, in paired runs.

The model is the same on both sides: LAYERS Linear(WIDTH) layers with a
ReLU between them (none after the last), mean-squared-error loss, plain SGD,
a batch of BATCH rows drawn once before timing, one thread each. PyTorch
does not compute a gradient for the input data, and neither does pipelab.

pipelab's step runs in a child process (bench/step.c, the library's own
model.h and stage.h calls); this script times PyTorch in its own process. The two take
turns: each pair is a burst of STEPS steps of one, then of the other, and
the order alternates between pairs, so slow spells on a shared machine hit
both.

One thread means one thread: torch.set_num_threads(1) does not reach the
OpenBLAS that Debian's PyTorch calls for its matmuls, so OPENBLAS_NUM_THREADS
is set to 1 as well. And as in bench/kernels.c, OpenBLAS is given its best
kernel for the instructions pipelab uses (OPENBLAS_CORETYPE SkylakeX for
AVX-512, Haswell for AVX2; a value already set is respected), because its
own CPU table may not know this machine. For each burst the median step time is kept; the verdict is the
median over pairs of torch_time / pipelab_time (>= 1.0: pipelab is no
slower).

    python3 bench/torch_step.py --pipelab build/bench/step [--pairs 21]

Wall-clock figures, reported, never asserted.
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import time

LAYERS, WIDTH, BATCH = 8, 512, 256


def torch_model():
    layers = []
    for i in range(LAYERS):
        layers.append(torch.nn.Linear(WIDTH, WIDTH))
        if i < LAYERS - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def blas_kernel():
    """The kernel OpenBLAS chose, if PyTorch's BLAS is OpenBLAS."""
    try:
        f = ctypes.CDLL("libblas.so.3").openblas_get_corename
        f.restype = ctypes.c_char_p
        return "OpenBLAS " + f().decode()
    except (OSError, AttributeError):
        return "BLAS: not OpenBLAS"


class Torch:
    def __init__(self):
        torch.manual_seed(1)
        self.model = torch_model()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01)
        self.x = torch.rand(BATCH, WIDTH) * 2 - 1
        self.target = torch.rand(BATCH, WIDTH) * 2 - 1

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(self.model(self.x), self.target)
        loss.backward()
        self.opt.step()

    def burst(self, n):
        times = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            self.step()
            times.append(time.perf_counter_ns() - t0)
        return times


class Pipelab:
    def __init__(self, path):
        self.proc = subprocess.Popen([path, str(LAYERS), str(WIDTH), str(BATCH)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.banner = self.proc.stdout.readline().strip()

    def burst(self, n):
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        return [int(t) for t in self.proc.stdout.readline().split()]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def spread(values, unit=1e6, fmt="{:7.2f}"):
    v = sorted(values)
    return " / ".join(fmt.format(x / unit) for x in (v[0], statistics.median(v), v[-1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipelab", required=True, help="the step program (build/bench/step)")
    ap.add_argument("--pairs", type=int, default=21)
    ap.add_argument("--steps", type=int, default=5, help="steps per burst")
    args = ap.parse_args()

    pl = Pipelab(args.pipelab)
    core = {"avx512": "SkylakeX", "avx2": "Haswell"}.get(pl.banner.split()[-1])
    if core and "OPENBLAS_CORETYPE" not in os.environ:
        os.environ["OPENBLAS_CORETYPE"] = core
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    global torch
    import torch  # only now: OpenBLAS reads its environment when it loads
    torch.set_num_threads(1)
    tr = Torch()
    flops = (3 * LAYERS - 1) * 2 * BATCH * WIDTH * WIDTH  # the first layer needs no input grad
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"step: {LAYERS} x Linear({WIDTH}), ReLU between, MSE, SGD, batch {BATCH}, "
          f"one thread each; {flops / 1e9:.2f} GFLOP of matmuls per step")
    print(f"  {pl.banner}")
    print(f"  PyTorch {torch.__version__}, {blas_kernel()}, {torch.get_num_threads()} thread; "
          f"load average {load} (1 min)")
    print(f"  {args.pairs} pairs of {args.steps}-step bursts, order alternating; "
          f"median step of each burst\n")

    tr.burst(3), pl.burst(3)  # warm up: caches, allocators, lazy initialisation
    t_torch, t_pl, ratio = [], [], []
    for i in range(args.pairs):
        if i % 2 == 0:
            a = statistics.median(tr.burst(args.steps))
            b = statistics.median(pl.burst(args.steps))
        else:
            b = statistics.median(pl.burst(args.steps))
            a = statistics.median(tr.burst(args.steps))
        t_torch.append(a), t_pl.append(b), ratio.append(a / b)
    pl.close()

    med = statistics.median(ratio)
    print(f"  {'step time (ms)':16} {'min / median / max':>27}   GFLOP/s (median)")
    print(f"  {'pipelab':16} {spread(t_pl)}   {flops / statistics.median(t_pl):.1f}")
    print(f"  {'PyTorch':16} {spread(t_torch)}   {flops / statistics.median(t_torch):.1f}")
    print(f"  {'PyTorch/pipelab':16} {spread(ratio, 1, '{:7.2f}')}")
    print(f"\nratio {med:.2f} (median of {args.pairs} pairs), target >= 1.00: "
          f"{'PASS' if med >= 1.0 else 'MISS'}")


if __name__ == "__main__":
    main()
