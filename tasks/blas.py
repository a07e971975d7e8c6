"""Single-threaded BLAS for the small dense algebra of the probes (d = 32 codes).

Threads cannot speed up 32 x 32 products, and on a busy machine OpenBLAS threads that wait for each other
made a Gaussian-mixture fit 50 times slower (0.7 s -> 33 s). One thread also makes the numbers independent
of the core count.
"""

from threadpoolctl import threadpool_limits


def single_threaded_blas():
    return threadpool_limits(limits=1, user_api="blas")
