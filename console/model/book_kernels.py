"""Streaming book kernel: applies a run of deltas, recording bests and top-N after each one.

The kernel is plain Python over numpy arrays. Where numba is installed it is compiled (and
cached on disk) on first use, which makes a per-delta loop cost nanoseconds instead of
microseconds; without numba books use a chunked numpy path instead (tests also run this code
interpreted, to check its logic where numba is absent). It only
ever touches the dense window of a `Book`: whatever needs the overflow levels or a new window
makes it stop and hand that one delta back to the Python code of the book.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from console.model.jit import njit_or_none

I8 = npt.NDArray[np.int64]
NO_BID = -(2**63)
NO_ASK = 2**63 - 1

KernelFn = Callable[..., int]


def run_deltas(
    q: I8,
    base: I8,
    st: I8,
    ovf_best: I8,
    has_ovf: I8,
    cur_px: I8,
    cur_q: I8,
    ntop: I8,
    scr_px: I8,
    scr_q: I8,
    side: I8,
    px: I8,
    qty: I8,
    start: int,
    margin: int,
    out_best: I8,
    out_bpx: I8,
    out_bq: I8,
    out_apx: I8,
    out_aq: I8,
) -> int:
    """Apply deltas from `start` on; returns the index of the first delta it did not apply.

    q: (2, W) lots by tick offset from each side's `base`. st: [best bid index or -1, best
    ask index or W, bid level count change, ask level count change]. ovf_best: the best
    overflow tick per side. cur_px/cur_q/ntop: the current top-N per side (absolute ticks),
    kept up to date; scr_px/scr_q: scratch of length N. Row j of the outputs is the book after
    delta j. It stops before a delta that is outside the window, negative, needs overflow
    levels, or would put a best within `margin` of the window edge.
    """
    w = q.shape[1]
    n = cur_px.shape[1]
    k = side.shape[0]
    bb = st[0]
    ba = st[1]
    j = start
    while j < k:
        s = side[j]
        if s != 0 and s != 1:
            break
        i = px[j] - base[s]
        nq = qty[j]
        if i < 0 or i >= w or nq < 0:
            break
        old = q[s, i]
        if s == 0:
            nb = bb
            if nq > 0 and i > bb:
                nb = i
            elif nq == 0 and old > 0 and i == bb:
                nb = i - 1
                while nb >= 0 and q[0, nb] == 0:
                    nb -= 1
                if nb < 0 and has_ovf[0]:
                    break
            if nb != bb and 0 <= nb < margin:
                break
            q[0, i] = nq
            # top-N changes only if the level is at or above the N-th best (or N not reached)
            if n > 0 and old != nq and (ntop[0] < n or px[j] >= cur_px[0, n - 1]):
                c = 0
                m = nb
                while c < n and m >= 0:
                    if q[0, m] != 0:
                        scr_px[c] = base[0] + m
                        scr_q[c] = q[0, m]
                        c += 1
                    m -= 1
                if c < n and has_ovf[0]:
                    q[0, i] = old
                    break
                for r in range(n):
                    cur_px[0, r] = scr_px[r] if r < c else 0
                    cur_q[0, r] = scr_q[r] if r < c else 0
                ntop[0] = c
            bb = nb
            if old == 0 and nq > 0:
                st[2] += 1
            elif old > 0 and nq == 0:
                st[2] -= 1
        else:
            na = ba
            if nq > 0 and i < ba:
                na = i
            elif nq == 0 and old > 0 and i == ba:
                na = i + 1
                while na < w and q[1, na] == 0:
                    na += 1
                if na >= w and has_ovf[1]:
                    break
            if na != ba and w - margin <= na < w:
                break
            q[1, i] = nq
            if n > 0 and old != nq and (ntop[1] < n or px[j] <= cur_px[1, n - 1]):
                c = 0
                m = na
                while c < n and m < w:
                    if q[1, m] != 0:
                        scr_px[c] = base[1] + m
                        scr_q[c] = q[1, m]
                        c += 1
                    m += 1
                if c < n and has_ovf[1]:
                    q[1, i] = old
                    break
                for r in range(n):
                    cur_px[1, r] = scr_px[r] if r < c else 0
                    cur_q[1, r] = scr_q[r] if r < c else 0
                ntop[1] = c
            ba = na
            if old == 0 and nq > 0:
                st[3] += 1
            elif old > 0 and nq == 0:
                st[3] -= 1
        if bb >= 0:
            out_best[j, 0] = base[0] + bb
        elif has_ovf[0]:
            out_best[j, 0] = ovf_best[0]
        else:
            out_best[j, 0] = NO_BID
        if ba < w:
            out_best[j, 1] = base[1] + ba
        elif has_ovf[1]:
            out_best[j, 1] = ovf_best[1]
        else:
            out_best[j, 1] = NO_ASK
        for r in range(n):
            out_bpx[j, r] = cur_px[0, r]
            out_bq[j, r] = cur_q[0, r]
            out_apx[j, r] = cur_px[1, r]
            out_aq[j, r] = cur_q[1, r]
        j += 1
    st[0] = bb
    st[1] = ba
    return j


_compiled: KernelFn | None = None
_loaded = False


def kernel() -> KernelFn | None:
    """The compiled kernel, or None where numba is missing or MDCONSOLE_NO_NUMBA=1.

    Without it, books use the plain-numpy chunked path (console.model.book_numpy), which is
    much faster than this loop interpreted.
    """
    global _compiled, _loaded
    if not _loaded:
        _loaded = True
        _compiled = njit_or_none(run_deltas)
    return _compiled


def compiled() -> bool:
    """Whether the kernel in use is compiled."""
    fn = kernel()
    return fn is not None and fn is not run_deltas
