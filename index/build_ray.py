"""The index build's map step (read, clean, chunk, embed) on Ray Data; the rest is index/build.py's.

`build_index_ray` is `build_index` with another map step: the driver (this process) takes the same lock,
loads the live build's vectors for reuse, lists the corpus, and then Ray Data `map_batches` runs, on a pool
of actors that each load the embedding model once, what `read_corpus` + `plan_document` + the encoder do in
a local build: read each file, clean it, chunk it, and embed the chunks and sentences of every document that
is not unchanged since the live build. The driver merges the results in file order exactly as `read_corpus`
does (errors, duplicate ids), then writes and publishes the build as a local build does. Same index, same
offsets; vectors equal within float rounding (texts are batched differently).

Where it runs: with RAY_ADDRESS set, on that cluster (every node needs this project's environment, the corpus
folder at the same path and the model; the driver checks each worker's model fingerprint); otherwise on a
Ray started here for the build (no dashboard, no usage stats; Ray's own token authentication) and shut
down after it. A Ray already initialised in this process (ray.init) is used as it is.

A file is the unit of work: a corpus held in one huge .jsonl is read and embedded by one actor; split it
into shards (BENCHMARKS.md "Distributed build (Ray)").
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pickle
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from index.build import BuildReport, DocSignature, MapResult, build_index, embed_plans, plan_document, unchanged
from index.chunking import ChunkingConfig
from index.documents import SUPPORTED, DocumentError, _read_file
from index.embedding import Embedder, default_model_path
from index.store import one_line

# Environment of every Ray worker: nothing fetched from the Hugging Face hub (as in index/embedding.py).
WORKER_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no "Loading weights" bar from every actor
}
LOCAL_OBJECT_STORE_BYTES = 1 << 30  # a local Ray's shared memory: blocks stream through it, results go to the driver
MAX_THREADS_PER_ACTOR = 4  # default CPUs of one embedding actor (pool_size)
MAX_FILES_PER_BATCH = 256  # files one actor reads and embeds per call (bounds the memory of one call)


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data, not only Ray core
    except ImportError as exc:
        raise RuntimeError(
            f"the ray build engine needs Ray Data ({one_line(exc)}): pip install 'corpus-qa[ray]'"
        ) from exc
    return ray


@contextlib.contextmanager
def ray_session(num_cpus: int | None = None) -> Iterator[Any]:
    """Ray for one build: the session this process already has, else the cluster at RAY_ADDRESS, else a Ray
    started on this machine with `num_cpus` (default: all, at most 8), no dashboard, shut down on exit."""
    ray = _import_ray()
    if ray.is_initialized():
        yield ray
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report sent anywhere
    common: dict[str, Any] = {"runtime_env": {"env_vars": WORKER_ENV}, "logging_level": logging.WARNING}
    if os.environ.get("RAY_ADDRESS"):
        ray.init(**common)  # connects to that cluster
    else:
        ray.init(
            address="local",  # a new Ray of our own, even if another one runs on this machine
            num_cpus=num_cpus or min(os.cpu_count() or 1, 8),
            include_dashboard=False,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            **common,
        )
    try:
        yield ray
    finally:
        ray.shutdown()


def list_corpus(corpus_dir: Path) -> tuple[list[str], list[str]]:
    """(files to read, skipped files) by relative path, in the order and with the rules of `read_corpus`."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    files: list[str] = []
    skipped: list[str] = []
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(corpus_dir).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        (files if path.suffix.lower() in SUPPORTED else skipped).append(rel)
    return files, skipped


class _PlanAndEmbed:
    """Ray Data callable class: one per actor, so each actor loads the model once and keeps it."""

    def __init__(
        self,
        corpus_dir: str,
        max_tokens: int,
        overlap_tokens: int,
        model_path: str | None,
        device: str,
        threads: int,
        expect_model_id: str,
        previous: list[Any],  # [ObjectRef of {doc_id: DocSignature}]
    ) -> None:
        import ray
        import torch

        for k, v in WORKER_ENV.items():
            os.environ.setdefault(k, v)
        torch.set_num_threads(max(1, threads))
        self.corpus_dir = Path(corpus_dir)
        self.config = ChunkingConfig(max_tokens, overlap_tokens)
        # torch, whose threads are set just above: an ONNX Runtime session per worker would take every core
        self.embedder = Embedder(model_path, device, runtime="torch")
        if self.embedder.model_id != expect_model_id:
            raise RuntimeError(
                f"a Ray worker loaded the embedding model {self.embedder.model_id} from {self.embedder.model_path},"
                f" not the driver's {expect_model_id}"
            )
        self.previous: dict[str, DocSignature] = ray.get(previous[0])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        per_file: list[list[tuple[int, Any]]] = []  # (line, _DocPlan or error message) in file order
        todo = []
        for rel in batch["rel"]:
            rel = str(rel)
            items: list[tuple[int, Any]] = []
            try:
                parsed = _read_file(self.corpus_dir / rel, rel)
            except DocumentError as exc:
                parsed = [(exc, 0)]
            for result, line in parsed:
                if isinstance(result, DocumentError):
                    items.append((line, str(result)))
                    continue
                doc, paragraphs = result
                plan = plan_document(doc, self.config, self.embedder, paragraphs)
                if not unchanged(plan, self.previous.get(doc.doc_id)):
                    todo.append(plan)
                items.append((line, plan))
            per_file.append(items)
        t0 = time.perf_counter()
        embed_plans(self.embedder, todo)
        seconds = time.perf_counter() - t0
        return {
            "i": np.asarray(batch["i"]),
            "payload": [pickle.dumps(items, protocol=5) for items in per_file],
            "encode_seconds": np.full(len(per_file), seconds / max(1, len(per_file))),
        }


class RayMapStep:
    """index.build.MapStep on Ray Data (see the module's docstring). `actors`: embedding actors; `cpus_per_actor`:
    the CPUs (torch threads) of each. Default (`pool_size`): actors of up to MAX_THREADS_PER_ACTOR CPUs filling
    the cluster's CPUs (one actor per GPU with a cuda device)."""

    def __init__(
        self,
        actors: int | None = None,
        cpus_per_actor: int | None = None,
        device: str = "cpu",
        model_path: str | None = None,
        num_cpus: int | None = None,
    ) -> None:
        if actors is not None and actors < 1:
            raise ValueError("actors must be positive")
        if cpus_per_actor is not None and cpus_per_actor < 1:
            raise ValueError("cpus_per_actor must be positive")
        self.actors = actors
        self.cpus_per_actor = cpus_per_actor
        self.device = device
        self.model_path = model_path
        self.num_cpus = num_cpus
        self.encode_seconds = 0.0  # summed over the actors, for benchmarks

    def __call__(
        self,
        corpus_dir: Path,
        config: ChunkingConfig,
        embedder: Embedder,
        previous: dict[str, DocSignature],
        progress: bool,
        report: Callable[[str, int, int], None],
    ) -> MapResult:
        files, skipped = list_corpus(corpus_dir)
        t0 = time.perf_counter()
        if not files:
            return MapResult([], skipped, [], 0, 0.0)
        with ray_session(self.num_cpus) as ray:
            rows = self._run(ray, corpus_dir, files, config, embedder, previous, progress, report)
        plans, errors = _merge(files, rows)
        embedded = sum(len(p.chunks) + len(p.sentences) for p in plans if p.fresh is not None)
        return MapResult(plans, skipped, errors, embedded, time.perf_counter() - t0)

    def _run(
        self,
        ray: Any,
        corpus_dir: Path,
        files: list[str],
        config: ChunkingConfig,
        embedder: Embedder,
        previous: dict[str, DocSignature],
        progress: bool,
        report: Callable[[str, int, int], None],
    ) -> dict[int, list[tuple[int, Any]]]:
        from ray.data import ActorPoolStrategy, DataContext

        gpu = self.device.startswith("cuda")
        if gpu:  # one actor per GPU
            actors, cpus = self.actors or max(1, int(ray.cluster_resources().get("GPU", 1))), 1
        else:
            node_cpus = [int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive")]
            actors, cpus = pool_size(node_cpus, self.actors, self.cpus_per_actor)
        actors = min(actors, len(files))
        # Files per call: about four calls per actor (balance), never more than MAX_FILES_PER_BATCH (memory).
        per_batch = max(1, min(MAX_FILES_PER_BATCH, math.ceil(len(files) / (actors * 4))))
        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        ray_data_log = logging.getLogger("ray.data")
        level = ray_data_log.level
        ray_data_log.setLevel(logging.WARNING)
        # The driver's model folder is sent only when it is not the package's own (each node has its own copy).
        model_path = self.model_path or (None if embedder.model_path == default_model_path() else embedder.model_path)
        ds = ray.data.from_items(
            [{"i": i, "rel": rel} for i, rel in enumerate(files)],
            override_num_blocks=math.ceil(len(files) / per_batch),
        ).map_batches(
            _PlanAndEmbed,
            batch_size=per_batch,
            batch_format="numpy",
            compute=ActorPoolStrategy(size=actors),
            num_cpus=0 if gpu else cpus,
            num_gpus=1 if gpu else 0,
            fn_constructor_kwargs={
                "corpus_dir": str(corpus_dir.resolve()),
                "max_tokens": config.max_tokens,
                "overlap_tokens": config.overlap_tokens,
                "model_path": model_path,
                "device": self.device,
                "threads": cpus,
                "expect_model_id": embedder.model_id,
                "previous": [ray.put(previous)],
            },
        )
        if progress:
            print(f"reading and embedding {len(files)} files on {actors} Ray actor(s)", file=sys.stderr)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(files), desc="Embedding (ray)", unit="file")
        report("embedding", 0, len(files))
        out: dict[int, list[tuple[int, Any]]] = {}
        try:
            for row in ds.iter_rows():
                out[int(row["i"])] = pickle.loads(row["payload"])
                self.encode_seconds += float(row["encode_seconds"])
                if bar is not None:
                    bar.update(1)
                report("embedding", len(out), len(files))
        except Exception as exc:  # a worker's failure arrives wrapped in Ray's errors: one line for the CLI
            raise RuntimeError(f"the Ray build failed: {worker_error(exc)}") from exc
        finally:
            ray_data_log.setLevel(level)
            if bar is not None:
                bar.close()
        if len(out) != len(files):
            raise RuntimeError(f"the Ray build returned {len(out)} of {len(files)} files")
        return out


def pool_size(node_cpus: list[int], actors: int | None = None, cpus_per_actor: int | None = None) -> tuple[int, int]:
    """(actors, CPUs each) for nodes with these CPUs. Measured on 2 cores: one 2-thread actor encodes as fast as
    two 1-thread ones and starts once instead of twice (BENCHMARKS.md), hence actors of several CPUs; the cap
    keeps torch's threads where they still pay (above 4 is not measured here)."""
    usable = [c for c in node_cpus if c >= 1] or [1]
    if cpus_per_actor is None:
        cpus_per_actor = min(MAX_THREADS_PER_ACTOR, min(usable))
        if actors is not None:  # that many actors, sharing the CPUs
            cpus_per_actor = max(1, min(cpus_per_actor, sum(usable) // actors))
    if actors is None:
        actors = max(1, sum(c // cpus_per_actor for c in usable))
    return actors, cpus_per_actor


def worker_error(exc: BaseException) -> str:
    """The line that says what went wrong in a Ray worker ("FileNotFoundError: ..."), found in the traceback
    text Ray wraps it in (the exception itself is not always passed on); else the error's own first line."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        text = _ANSI.sub("", str(e))
        raised = [ln.strip() for ln in text.splitlines() if _RAISED.match(ln.strip())]
        if raised:
            return one_line(Exception(raised[-1]))
        e = getattr(e, "cause", None) or e.__cause__
    return one_line(Exception(_ANSI.sub("", str(exc))))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)(\(.*\))?: \S")


def _merge(files: list[str], rows: dict[int, list[tuple[int, Any]]]) -> tuple[list[Any], list[str]]:
    """Plans and errors in file order, with `read_corpus`'s duplicate rule: the first file keeps an id."""
    plans: list[Any] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for i, rel in enumerate(files):
        for line, item in rows[i]:
            if isinstance(item, str):
                errors.append(item)
                continue
            doc_id = item.doc.doc_id
            if doc_id in seen:
                errors.append(f"{rel}:{line}: duplicate document id {doc_id!r} (also in {seen[doc_id]})")
                continue
            seen[doc_id] = rel
            plans.append(item)
    return plans, errors


def build_index_ray(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    config: ChunkingConfig | None = None,
    index_type: str = "flat",
    progress: bool = True,
    on_progress: Callable[[str, int, int], None] | None = None,
    wait: bool = False,
    *,
    actors: int | None = None,
    cpus_per_actor: int | None = None,
    device: str = "cpu",
    model_path: str | None = None,
) -> BuildReport:
    """`build_index` with its read/clean/chunk/embed step on Ray (module docstring). `embedder` (the driver's)
    gives the model's fingerprint and dimension for the manifest and the reuse check; it embeds nothing.
    `on_progress("embedding", done, total)` counts files here, not texts."""
    step = RayMapStep(actors=actors, cpus_per_actor=cpus_per_actor, device=device, model_path=model_path)
    return build_index(corpus_dir, index_dir, embedder, config, index_type, progress, on_progress, wait, step)
