// SPDX-License-Identifier: GPL-3.0-or-later
// Controls OpenBLAS's own thread pool at run time. Debian's LibTorch calls the system BLAS, and
// OpenBLAS (pthreads build) starts one thread per core in addition to torch's intra-op threads;
// on small models (batched attention products inside torch's parallel loops) the two pools
// oversubscribe the cores and most time goes to the kernel (measured: 23.5 s vs 11.2 s for 60
// tiny pretraining steps on 2 cores).
#pragma once

namespace apportion {

/// Sets OpenBLAS's thread count if OpenBLAS is the loaded BLAS; returns false otherwise.
bool set_blas_threads(int threads);

}  // namespace apportion
