"""The approximate vector index of a large index folder: IVF with 8-bit scalar quantisation,
one byte per dimension, trained on a sample (`build_ann`), refilled keeping its training
(`ann_with`), and set up for search and decoding by row (`prepare_ann`)."""

from __future__ import annotations

import numpy as np


def build_ann(vectors: np.ndarray, dimension: int, nlist: int | None = None) -> tuple[object, dict]:
    """An IVF index with 8-bit scalar quantisation of the vectors themselves (not residuals, so
    decoding and encoding again gives the same codes), trained on a sample: (index, recipe)."""
    import faiss

    n = len(vectors)
    # about 4 sqrt(n) lists, a power of two, with at least 39 training points each (FAISS's advice)
    nlist = nlist or int(max(1, min(65536, 2 ** round(np.log2(4 * np.sqrt(n))), n // 39)))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT, False)
    sample = vectors[np.random.default_rng(0).choice(n, min(n, 64 * nlist, 256_000), replace=False)]
    index.cp.niter = 10
    index.cp.min_points_per_centroid = 1  # small indexes (tests) train on fewer points; no warning on stderr
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    recipe = {"type": "IVF,SQ8", "nlist": nlist, "nprobe": min(nlist, max(32, nlist // 32)), "trained_on": n}
    prepare_ann(index, recipe)
    return index, recipe


def ann_with(base_index, vectors: np.ndarray):
    """A copy of `base_index` (trained) holding exactly `vectors`: an add to a large index keeps
    its training instead of repeating it."""
    import faiss

    index = faiss.clone_index(base_index)
    index.reset()
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    ivf = faiss.extract_index_ivf(index)
    ivf.make_direct_map()
    ivf.nprobe = faiss.extract_index_ivf(base_index).nprobe
    return index


def prepare_ann(index, recipe: dict) -> None:
    """Search settings of a loaded or built IVF index, and the map that decodes a vector by row."""
    import faiss

    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = int(recipe.get("nprobe", 32))
    ivf.make_direct_map()
