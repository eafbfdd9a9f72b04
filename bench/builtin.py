"""Benchmark the built-in engine: request time, memory and cold start, each against a baseline
measured in the same run (the machine is shared and noisy, so compare ratios, not times).

    python bench/builtin.py                       # all three parts, markdown tables
    python bench/builtin.py --parts request       # one part: request, memory or cold
    python bench/builtin.py --sizes 1024x1024     # the request part at one size
    python bench/builtin.py --src /other/src      # also measure memory, cold start, threads there

1. Request time: `BuiltinEngine.generate` (understand, draw, encode) for every size, n=1 and n=5,
   pinned to one core, against the PNG-encode floor: Pillow's encoder (compress level 1) on the
   very same pictures, the least any engine that hands Pillow its picture would spend. Also shown:
   the time the engine's own encoder takes on them, and the files' sizes from both encoders.
2. Memory: resident memory of an idle `gouache serve` (engines loaded, no request yet) with the
   three default deployments against a server with one built-in deployment.
3. Cold start: a whole `gouache generate` process drawing one 1024x1024 picture in-process,
   against `python -c "import numpy, PIL.Image"`, run in turn, ratio taken pair by pair, median.
   Bytecode is cached (in a temporary folder) as it is in an installed package.
4. Threads: images per second of one shared warm engine (1024x1024, n=1 requests) drawn by one
   worker thread and by two at once, as `gouache serve` runs its workers; the two-thread figure
   over the one-thread figure is how well workers overlap on this machine's cores. The ceiling
   beside it: two single-threaded processes at once (no lock, no GIL shared) over one thread, what
   the cores give at that moment on a shared machine. Each code runs in its own processes, rounds
   alternating between the codes; ratios are taken within a round and their median shown.

`--src` runs parts 2, 3 and 4 a second time with another checkout's `src` first on the path (an
older version, say), so a change can be shown against what came before in the same run.
"""

from __future__ import annotations

import os

# --- knobs -------------------------------------------------------------------------------------
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
SIZES = ["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536"]
PROMPTS = [
    "a red running shoe on a white background",
    "a cat next to a dog in a forest at sunset",
    "a slide background in navy, gold and white with space for a title",
    "three hot air balloons over the mountains",
    "a rocket in space, neon style",
]
REPEATS = 2  # each (size, n) is timed over REPEATS x len(PROMPTS) requests
COLD_RUNS = 9  # paired runs of the cold-start comparison (one warm-up pair not counted)
THREAD_REQUESTS = 24  # requests per measurement of the threads part, shared among the threads
THREAD_ROUNDS = 5
IDLE_S = 2.0  # how long the server sits idle after /readyz before its memory is read
ONE_DEPLOYMENT = '[deployments.dall-e-3]\nprofile = "dall-e-3"\nengine = "builtin"\n'
# -----------------------------------------------------------------------------------------------

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from PIL import Image  # noqa: E402

from gouache.engines.base import ImageRequest  # noqa: E402
from gouache.engines.builtin import BuiltinEngine  # noqa: E402
from gouache.engines.encoding import encode_png, pillow_png  # noqa: E402


def machine() -> str:
    cores = os.cpu_count() or 0
    return (
        f"{platform.processor() or platform.machine()}, {cores} cores, {platform.system()}, "
        f"Python {platform.python_version()}"
    )


# -- 1. request time ------------------------------------------------------------------------------


def request_part(sizes: list[str]) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    engine = BuiltinEngine({"warm_up": True})
    engine.setup()
    for prompt in PROMPTS:  # warm caches (encoder, glyph masks, textures), as a running worker
        for size in sizes:
            engine.generate([ImageRequest(prompt, 1, size, seed=0)])
    print("### Request time against the PNG-encode floor (pinned to 1 core)")
    print()
    print(
        "| size | n | images/s | ms/request | PNG-encode floor, Pillow (ms/request) "
        "| ratio to floor | engine's PNG encode (ms/request) | PNG KiB, engine / Pillow |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        for n in (1, 5):
            total = floor = ours = 0.0
            ours_bytes = pillow_bytes = requests = 0
            for repeat in range(REPEATS):
                for k, prompt in enumerate(PROMPTS):
                    request = ImageRequest(prompt, n, size, seed=100 * repeat + k)
                    t0 = time.perf_counter()
                    images = engine.generate([request])[0]
                    total += time.perf_counter() - t0
                    pictures = [Image.open(io.BytesIO(image.data)) for image in images]
                    for picture in pictures:
                        picture.load()
                    t0 = time.perf_counter()
                    made = [pillow_png(picture) for picture in pictures]
                    floor += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    for picture in pictures:
                        encode_png(picture)
                    ours += time.perf_counter() - t0
                    ours_bytes += sum(len(image.data) for image in images)
                    pillow_bytes += sum(len(data) for data in made)
                    requests += 1
            images_made = requests * n
            print(
                f"| {size} | {n} | {images_made / total:.1f} | {1000 * total / requests:.0f} "
                f"| {1000 * floor / requests:.1f} | {total / floor:.2f}x "
                f"| {1000 * ours / requests:.1f} "
                f"| {ours_bytes / images_made / 1024:.0f} / {pillow_bytes / images_made / 1024:.0f} |"
            )
    print()


# -- 2. memory ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOUACHE_", "AZURE_OPENAI"))}
    env["PYTHONPATH"] = str(src)
    return env


def idle_rss_mib(src: Path, config: str | None) -> float:
    """Resident memory of a `gouache serve` that has loaded its engines and sits idle."""
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        command = [sys.executable, "-m", "gouache.cli.main", "serve", "--port", str(port)]
        command += ["--data-dir", str(Path(folder) / "data")]
        if config is not None:
            (Path(folder) / "gouache.toml").write_text(config)
            command += ["--config", str(Path(folder) / "gouache.toml")]
        server = subprocess.Popen(
            command, env=_env(src), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("gouache serve did not become ready in 120 s")
            time.sleep(IDLE_S)
            status = Path(f"/proc/{server.pid}/status").read_text()
            kib = next(int(line.split()[1]) for line in status.splitlines() if "VmRSS" in line)
            return kib / 1024
        finally:
            server.terminate()
            server.wait(30)


def memory_part(sources: dict[str, Path]) -> None:
    print("### Idle resident memory of `gouache serve`")
    print()
    print("| code | three default deployments (MiB) | one built-in deployment (MiB) | ratio |")
    print("|---|---|---|---|")
    for label, src in sources.items():
        three, one = idle_rss_mib(src, None), idle_rss_mib(src, ONE_DEPLOYMENT)
        print(f"| {label} | {three:.0f} | {one:.0f} | {three / one:.2f}x |")
    print()


# -- 3. cold start --------------------------------------------------------------------------------


def _wall(command: list[str], env: dict[str, str], cwd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


def cold_part(sources: dict[str, Path]) -> None:
    baseline = [sys.executable, "-c", "import numpy, PIL.Image"]
    print(f"### Cold start: `gouache generate` in-process, 1024x1024, {COLD_RUNS} paired runs")
    print()
    print(
        "| code | generate, median s | `import numpy, PIL.Image`, median s "
        "| ratio (median of pairs) | min..max ratio |"
    )
    print("|---|---|---|---|---|")
    for label, src in sources.items():
        with tempfile.TemporaryDirectory() as folder:
            env = _env(src)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")  # as an installed package
            generate = [sys.executable, "-m", "gouache.cli.main", "generate"]
            generate += ["a red apple on a wooden table", "--size", "1024x1024", "--quiet"]
            pairs = []
            for run in range(COLD_RUNS + 1):
                ours = _wall(generate + ["--seed", str(run)], env, folder)
                base = _wall(baseline, env, folder)
                if run:  # the first pair compiles the bytecode and warms the disk cache
                    pairs.append((ours, base))
        ratios = [ours / base for ours, base in pairs]
        print(
            f"| {label} | {statistics.median(o for o, _ in pairs):.3f} "
            f"| {statistics.median(b for _, b in pairs):.3f} | {statistics.median(ratios):.2f}x "
            f"| {min(ratios):.2f}..{max(ratios):.2f} |"
        )
    print()


# -- 4. threads ------------------------------------------------------------------------------------

THREADS_SCRIPT = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from gouache.engines.base import ImageRequest
from gouache.engines.builtin import BuiltinEngine

prompts, total = json.loads(sys.argv[1]), int(sys.argv[2])
counts = [int(c) for c in sys.argv[3].split(",")]
engine = BuiltinEngine({"warm_up": True})
engine.setup()
for prompt in prompts:
    engine.generate([ImageRequest(prompt, 1, "1024x1024", seed=0)])
requests = [ImageRequest(prompts[k % len(prompts)], 1, "1024x1024", seed=k) for k in range(total)]
rates = {}
for threads in counts:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda request: engine.generate([request]), requests))
    rates[threads] = total / (time.perf_counter() - t0)
print(json.dumps(rates))
"""


def _rates(src: Path, counts: str) -> dict[str, float]:
    command = [sys.executable, "-c", THREADS_SCRIPT, json.dumps(PROMPTS), str(THREAD_REQUESTS)]
    done = subprocess.run(
        command + [counts], env=_env(src), capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _two_processes(src: Path) -> float:
    """Images/s of two single-threaded processes running at once: what the machine's cores can
    give right now with no lock and no GIL shared, the ceiling for two threads."""
    command = [sys.executable, "-c", THREADS_SCRIPT, json.dumps(PROMPTS), str(THREAD_REQUESTS)]
    running = [
        subprocess.Popen(command + ["1"], env=_env(src), stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    return sum(json.loads(p.communicate()[0].strip().splitlines()[-1])["1"] for p in running)


def threads_part(sources: dict[str, Path]) -> None:
    print("### Throughput of one shared engine: 1 and 2 worker threads, 1024x1024 n=1")
    print()
    print(
        "| code | 1 thread, best (images/s) | 2 threads, best (images/s) "
        "| 2 threads / 1 thread, median of rounds | ceiling: 2 processes / 1 thread, median |"
    )
    print("|---|---|---|---|---|")
    best: dict[str, dict[str, float]] = {label: {} for label in sources}
    ratios: dict[str, dict[str, list[float]]] = {
        label: {"2": [], "processes": []} for label in sources
    }
    for _ in range(THREAD_ROUNDS):
        for label, src in sources.items():
            rates = _rates(src, "1,2")
            rates["processes"] = _two_processes(src)
            for key, rate in rates.items():
                best[label][key] = max(best[label].get(key, 0.0), rate)
            for key in ("2", "processes"):  # paired with the one-thread figure of the same round
                ratios[label][key].append(rates[key] / rates["1"])
    for label, rates in best.items():
        print(
            f"| {label} | {rates['1']:.1f} | {rates['2']:.1f} "
            f"| {statistics.median(ratios[label]['2']):.2f}x "
            f"| {statistics.median(ratios[label]['processes']):.2f}x |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=["request", "memory", "cold", "threads"])
    parser.add_argument("--src", type=Path, help="another checkout's src folder to compare with")
    parser.add_argument("--sizes", nargs="+", default=SIZES, help="sizes for the request part")
    args = parser.parse_args()
    sources = {"this checkout": SRC}
    if args.src:
        sources[f"--src {args.src}"] = args.src.resolve()
    print(f"machine: {machine()}")
    print()
    if "memory" in args.parts:
        memory_part(sources)
    if "cold" in args.parts:
        cold_part(sources)
    if "threads" in args.parts:
        threads_part(sources)
    if "request" in args.parts:
        request_part(args.sizes)  # last: it pins this process to one core


if __name__ == "__main__":
    main()
