/*
 * fastfood.h - Adaptive Fastfood layers behind a stable C ABI.
 *
 * This header is the reference manual of libfastfood. Every function is documented where it is
 * declared. It compiles without a warning as C89, C99, C11 and C17 and as C++98, 11, 17 and 20,
 * under gcc's and clang's strict warnings and clang's -Wdocumentation (Tests/ABI/check_header.sh).
 *
 * WHAT IT COMPUTES
 *
 * A Fastfood layer replaces a dense layer y = W x (in_features -> out_features) by structured
 * blocks (Yang et al., "Deep Fried Convnets", 2015; Le, Sarlos, Smola, "Fastfood", 2013). With
 * D = block size = the smallest power of two >= in_features and K = num_blocks =
 * ceil(out_features / D), block k maps the zero-padded input x_pad (length D) to
 *
 *     y_k = S_k H G_k PI_k H B_k x_pad
 *
 *   - S_k, G_k, B_k: diagonal matrices (D numbers each), the trainable parameters;
 *   - PI_k: a fixed permutation, (PI_k v)[i] = v[perm[k*D + i]], drawn from the layer's seed;
 *   - H: the unnormalised Walsh-Hadamard matrix of order D in natural (Sylvester) order,
 *     entries +1/-1, H*H = D*I. A layer created without FASTFOOD_LAYER_NORMALIZED (the 1.0
 *     form) applies no normalising constant anywhere: scale lives in S. With that flag (since
 *     1.1; the one to train with) each H is H / sqrt(D), i.e. the block computes
 *     (S_k / D) H G_k PI_k H B_k x_pad.
 *
 * The outputs of the K blocks are concatenated and the first out_features are kept; with a bias
 * the bias vector is added. Forward and backward both cost O(K * D log D) per row.
 *
 * PARAMETERS
 *
 * The library never owns trainable numbers: they live in the caller's memory, one contiguous
 * array of fastfood_layer_param_count() elements laid out as
 *
 *     [ S (K*D) | G (K*D) | B (K*D) | bias (out_features, only with FASTFOOD_LAYER_BIAS) ]
 *
 * where block k of S, G and B starts at offset k*D of its section. Gradients (dparams) use the
 * same layout. S entries of outputs dropped by truncation and B entries of padded inputs have
 * gradient 0.
 *
 * BATCHES
 *
 * Inputs and outputs are row-major batches: row r of x starts at x + r*ldx with
 * ldx >= in_features (likewise y / ldy >= out_features, dy / lddy >= out_features,
 * dx / lddx >= in_features). Elements between the end of a row and the start of the next are
 * never read or written.
 *
 * An output may share memory with an input only where a function says so: the exact in-place
 * uses (y == x in the forwards; dx == dy, dphi, x or phi in the backwards since 1.4), each output
 * being exactly the input's rows (the same pointer and, for more than one row, the same row
 * stride). Since 1.4 any other sharing of a byte between an output and an input or another
 * output is refused with FASTFOOD_ERROR_INVALID_ARGUMENT before anything is written (earlier
 * versions ran such calls and gave wrong results). Only the rows' elements count: two matrices
 * interleaved in the rows of one buffer (x and y side by side) do not share memory.
 *
 * ALIGNMENT
 *
 * No buffer needs any alignment, and every call gives the same bits wherever its buffers lie:
 * malloc's 16 bytes, the element's own 4 or 8, or none (element pointers at an odd address,
 * which C itself does not allow but binders hand out, such as a numpy array at an odd offset:
 * the library is built for x86-64, whose loads and stores take any address). The saved-data
 * functions take byte buffers at any address. Tested by Tests/CAPI/test_alignment.c under every
 * kernel variant (since 1.4.6; the kernels never required alignment). Speed: 64-byte aligned
 * rows are the fastest. Since 1.4.7 a batch whose rows all lie alike off a 64-byte boundary (the
 * row stride a multiple of 64 bytes, as for 1024 floats, and the rows at malloc's 16 bytes or at
 * any whole element) has the transposes of x, y, dx and dy start at its first aligned column or
 * load from aligned blocks, so they do not straddle cache lines. On an AMD EPYC Zen 4 (AVX-512)
 * such rows at 16 bytes took 1.22x / 1.12x the time of aligned ones for a 128-row forward +
 * backward at 1024 / 4096 wide in 1.4.6, and 1.11x / 1.04x in 1.4.7 (1.02x-1.04x wider); with
 * every buffer only 4-byte aligned 1.21x / 1.06x before, 1.05x / 1.01x after (one build/bin/bench
 * --training run each, "packed rows 16 bytes off" and "every buffer 4-byte aligned"). Since 1.4.8
 * the columns before the first aligned one, and a batch's last columns short of a whole block,
 * are transposed as part of a block instead of one by one: packed rows at 16 bytes 1.08x / 1.05x
 * there (1.11x / 1.07x with 1.4.7 the same day). On AVX2
 * machines (AMD EPYC Zen 1) these costs were 1.02x-1.06x before. Rows whose stride is not a
 * multiple of 64 bytes take turns at each offset and ran at 1.00x-1.06x. With 1.4.9, whose
 * calls are faster, the same Zen 4 (three build/bin/bench --training runs, against packed
 * 64-byte aligned rows of a power-of-two width): packed rows at 16 bytes 1.07x / 1.03x-1.04x at
 * 1024 / 4096, every buffer 4-byte aligned 1.06x / 1.03x, strides of in + 4 and out + 4 floats
 * ("rows 16-byte aligned") 1.11x / 1.07x-1.08x, 1.00x-1.03x wider. A row stride that is a
 * multiple of 4 KiB (1024 floats, 512 doubles: power-of-two widths) puts the rows of a tile in
 * one L1 cache set, which costs time: with 1.4.9 on an AMD EPYC Zen 4 rows 64 bytes longer take
 * 0.91x-0.97x of such rows' time for a 128-row forward + backward (build/bin/bench --training,
 * "rows 64 bytes longer"), though 1.4.9 writes y and dx 8 blocks at a time, row by row, at such
 * strides (that alone 0.92x of the forward's time). Leading dimensions of a power of two plus
 * 16 floats (64 bytes) avoid it.
 *
 * LARGE OUTPUTS
 *
 * Since 1.5.0, with the avx512 kernels (see fastfood_cpu_variant()), a call whose output takes at
 * least a quarter of the CPU's largest cache (the cache size as cpuid gives it: 32 MiB of L3 on an
 * AMD EPYC Zen 4, so from 8 MiB) writes the 64-byte aligned vectors of its rows with non-temporal
 * stores: a forward's y (batch x out_features elements; phi, 2 x out_features, for random
 * features; plain or training), a backward's dx (batch x in_features; stored, not with
 * FASTFOOD_ACCUMULATE). Each cache line goes to memory without being read into the cache
 * first, and without evicting the caller's other data for an output that would not stay in the
 * cache anyway (the size at which glibc's memcpy turns to them too). The values are the same bit
 * for bit, the buffers need no alignment (rows whose stride is a multiple of 64 bytes stream all
 * their whole vectors), and every store is complete and visible to the calling thread when the
 * call returns. On that Zen 4, 128 rows, one thread, against 1.4.11: the random-features forward
 * 0.79x-0.85x of the time at 16384 wide and 0.89x-0.95x at 8192, the plain forward 0.84x-0.90x
 * and the backward 0.93x-0.96x (dx only: 0.84x-0.88x) at 16384; with the output read once right
 * after the call (benchmarks/compare_builds --read-output): 0.82x-0.94x, 0.92x-1.07x (no clear
 * gain at the threshold), 0.89x-0.97x and 0.93x (0.89x). The environment variable
 * FASTFOOD_STREAM_BYTES, a decimal byte count read when the library is first used, replaces the
 * threshold: 0 streams every output, a count larger than any output turns streaming off.
 *
 * ERRORS
 *
 * Every function that can fail returns a fastfood_status. On failure no output buffer is
 * modified (one exception: an executor that breaks its contract, see fastfood_set_executor()),
 * and fastfood_last_error_message() describes the failure on the calling thread.
 * The library never aborts, never prints and never calls exit() inside the caller's process.
 * Arguments are validated before any work; pointers are trusted to point at as many elements as
 * the sizes say (the library cannot check that).
 *
 * MEMORY
 *
 * The library allocates with the C library's allocator and frees all it allocates. It holds:
 *   - for each layer, its handle and permutations (K*D indices), until fastfood_layer_destroy();
 *   - for each thread that makes compute calls (the forwards and backwards, training and
 *     random-feature calls included), one work buffer sized for the call's tiles and every
 *     worker that helps it, grown when a call needs more, never shrunk, freed when the thread
 *     exits. After the first call of a given layer, batch size and thread count on a thread, the
 *     same or smaller calls allocate nothing (a call made from inside an executor's task while
 *     that thread's own call runs uses a second buffer of the thread);
 *   - the worker pool's threads (see fastfood_set_num_threads()), started by the first call
 *     that uses them.
 * Temporary memory, freed before the call returns: fastfood_save_file_*, the loads and
 * fastfood_load_info / fastfood_load_file_info (the file's image, permutations to check the
 * digest). The initialisations (since 1.4.3; before, a temporary parameter array), the FWHT,
 * fastfood_save_* to memory, the layer queries and the thread, version and message calls
 * allocate nothing. A failed allocation is
 * FASTFOOD_ERROR_OUT_OF_MEMORY with nothing modified, in a process's first call too (since
 * 1.4.2).
 *
 * THREAD SAFETY
 *
 * A fastfood_layer is immutable after creation. Every function may be called concurrently from
 * any number of threads, on the same layer or on different ones, as long as concurrent calls do
 * not write to the same output buffer (and no thread writes a buffer another call reads).
 * fastfood_layer_destroy() must not race with other uses of the same layer.
 *
 * WHAT A CALLER MAY DO (since 1.1)
 *
 *   - fork(): allowed at any time, also while another thread is inside a call. In a child
 *     process forked from a process that had loaded the library, every call works and runs on the
 *     calling thread only (the parent's pool threads do not exist there, and the Swift runtime's
 *     per-thread state is the parent's); fastfood_set_num_threads() records the count and
 *     fastfood_get_num_threads() reports it. Results are the same as with threads. A process
 *     that loads the library itself (e.g. after exec) uses threads normally.
 *   - Thread cancellation: every call disables cancellation while it runs, so a pending
 *     pthread_cancel() takes effect at the caller's next cancellation point after the call
 *     returns; nothing is left locked, no temporary file or descriptor is left behind.
 *   - Signals: the library installs no signal handler and never changes the signal mask of the
 *     caller's threads. Its own pool threads block every asynchronous signal (since 1.2.1; all
 *     but SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS), so a signal sent to the process is
 *     handled on one of the caller's threads: sigwait() and signalfd() setups see it, and it
 *     interrupts the calls those threads wait in. Its calls are not async-signal-safe: do not
 *     call them from a signal handler. EINTR is retried.
 *   - Floating-point mode: computation follows the calling thread's SSE control bits (rounding
 *     mode, flush-to-zero, denormals-are-zero); a parallel call hands them to its pool threads
 *     (and to the tasks it gives an executor, see fastfood_set_executor()), so results are bitwise
 *     identical for every thread count in any mode. The caller's mode is never changed.
 *   - Stack: a calling thread needs at least 64 KiB of stack, and so does a thread that runs an
 *     executor's tasks (the pool's own threads get the system default). The pool's threads are
 *     named "fastfood-pool" (since 1.2.1; what top -H, ps -L, gdb and perf show).
 *   - Thread limits: where a pool thread cannot be created (a pids cgroup or RLIMIT_NPROC
 *     exhausted), calls run on the threads that exist, with the same results; no error.
 *   - File names are bytes: they reach the system exactly as given (any encoding).
 *
 * ABI
 *
 * Only <stddef.h> and <stdint.h> types cross the boundary; no struct is passed by value; flag
 * words are uint32_t and unknown bits are rejected. Within major version 1 nothing declared here
 * changes meaning; new functions and flag bits may be added.
 */
#ifndef FASTFOOD_H
#define FASTFOOD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks every exported declaration; the library is built with everything else hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define FASTFOOD_API __attribute__((visibility("default")))
#else
#define FASTFOOD_API
#endif

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------- */

/** Compile-time version of this header. Compare with fastfood_version_number() at run time. */
#define FASTFOOD_VERSION_MAJOR 1
#define FASTFOOD_VERSION_MINOR 5
#define FASTFOOD_VERSION_PATCH 2
/** major * 10000 + minor * 100 + patch. */
#define FASTFOOD_VERSION_NUMBER 10502
/** The same version as a string. */
#define FASTFOOD_VERSION_STRING "1.5.2"

/**
 * Version of the library actually loaded, as major * 10000 + minor * 100 + patch.
 *
 * Compare with FASTFOOD_VERSION_NUMBER to detect a header/library mismatch. A library with the
 * same major version and an equal or higher number than the header is compatible.
 * Thread safety: may be called from any thread at any time.
 */
FASTFOOD_API uint32_t fastfood_version_number(void);

/**
 * Version of the library actually loaded, as "major.minor.patch".
 *
 * @return a static NUL-terminated string owned by the library; never NULL, never freed.
 * Thread safety: may be called from any thread at any time.
 */
FASTFOOD_API const char *fastfood_version_string(void);

/* ---------------------------------------------------------------------------------------------
 * Status codes and error messages
 * ------------------------------------------------------------------------------------------- */

/** Result of every fallible call: FASTFOOD_OK (0) or one of the FASTFOOD_ERROR_* codes. */
typedef int32_t fastfood_status;

/** Success. */
#define FASTFOOD_OK 0
/** An argument has a value outside its documented range (a zero width, a row stride shorter than
 *  the row, a length that is not a power of two, an unknown flag bit, a bad sigma ...). */
#define FASTFOOD_ERROR_INVALID_ARGUMENT 1
/** A pointer argument that is required is NULL. */
#define FASTFOOD_ERROR_NULL_POINTER 2
/** Sizes whose product or sum does not fit in size_t, or describes more bytes than an address
 *  space can hold. */
#define FASTFOOD_ERROR_SIZE_OVERFLOW 3
/** Memory for the layer or for temporary work could not be allocated. */
#define FASTFOOD_ERROR_OUT_OF_MEMORY 4
/** Reading or writing a file failed (reserved for save/load). */
#define FASTFOOD_ERROR_IO 5
/** Data is not a valid fastfood file or buffer (reserved for save/load). */
#define FASTFOOD_ERROR_BAD_FORMAT 6
/** Data was written by a newer, incompatible format version (reserved for save/load). */
#define FASTFOOD_ERROR_UNSUPPORTED_VERSION 7

/**
 * A short English description of a status code, e.g. "invalid argument". The strings are those
 * of 1.0 ("success", "invalid argument", "null pointer", "size overflow", "out of memory",
 * "input/output error", "bad file format", "unsupported file version") and do not change.
 *
 * @param status any value, including codes this version does not know.
 * @return a static NUL-terminated string owned by the library; never NULL (unknown codes give
 *         "unknown status code").
 * Thread safety: may be called from any thread at any time.
 */
FASTFOOD_API const char *fastfood_status_string(fastfood_status status);

/**
 * A sentence describing the most recent failure of a fastfood call on the calling thread: which
 * function, which argument, which value, what was expected.
 *
 * Successful calls do not clear it. Before any failure on this thread it is the empty string. It
 * is at most 511 bytes long: a longer sentence (a long path in it) is cut there.
 *
 * @return a NUL-terminated string owned by the library, valid until the next fastfood call on the
 *         same thread; never NULL. Copy it if you need it longer.
 * Thread safety: each thread has its own message.
 */
FASTFOOD_API const char *fastfood_last_error_message(void);

/* ---------------------------------------------------------------------------------------------
 * Layers
 * ------------------------------------------------------------------------------------------- */

/** Opaque, immutable description of a Fastfood layer: its shape, flags and permutations. It owns
 *  no trainable numbers. Create with fastfood_layer_create(), free with fastfood_layer_destroy(). */
typedef struct fastfood_layer fastfood_layer;

/** Layer flag: the layer has a bias vector of out_features numbers at the end of its parameters. */
#define FASTFOOD_LAYER_BIAS 0x1u

/**
 * Layer flag (since 1.1): orthonormal transforms. Each H is replaced by H / sqrt(D), so block k
 * computes
 *
 *     y_k = S_k (H / sqrt(D)) G_k PI_k (H / sqrt(D)) B_k x_pad  =  (S_k / D) H G_k PI_k H B_k x_pad.
 *
 * Why: with the unnormalised H a block has gain ~D, so S must start near 1/D while its gradient
 * is ~D times the natural scale, and one learning rate cannot serve S, G and B (SGD with
 * momentum diverges within a few steps). With this flag S, G, B and their gradients are all
 * O(1), as the weights of a dense layer are: train every parameter with one learning rate, plain
 * SGD, momentum, weight decay or Adam, exactly as for the dense layer it replaces. Use it for any
 * layer you train; leave it off to keep the 1.0 parameterisation (e.g. to load old checkpoints'
 * S values unchanged).
 *
 * Everything else is unchanged: the parameter layout and count, the permutations, dropout and
 * the backward flags. The gradients are those of the normalised layer (dS = dy * u4 / D, where
 * u4 is the unnormalised H G PI H B x). The initialisations describe the same function as for an
 * unnormalised layer with the same seed: every S value is multiplied by D (so S is O(1): about
 * gain * sqrt(D / in_features) for FASTFOOD_INIT_VARIANCE, 1 for FASTFOOD_INIT_NEAR_IDENTITY).
 * D is a power of two, so a normalised layer with parameters P computes bit for bit what an
 * unnormalised layer computes with P's S section divided by D (barring underflow to subnormal
 * numbers). The flag is stored in saved files; files without it load as before. Costs: one pass
 * over the parameters per call (scaling a copy of S), negligible next to a batch.
 */
#define FASTFOOD_LAYER_NORMALIZED 0x2u

/** Largest accepted in_features (and block size): 2^30. */
#define FASTFOOD_MAX_IN_FEATURES 1073741824u

/**
 * Creates a layer mapping in_features inputs to out_features outputs.
 *
 * The permutations PI_k are generated from seed, so the same (in_features, out_features, seed)
 * gives the same layer on every machine, every run and every version 1.x. The generator: for
 * block k, a SplitMix64 stream whose state starts at mix(seed ^ mix(mix(1) + k)), where mix is
 * the SplitMix64 output function (z ^= z >> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >> 27;
 * z *= 0x94d049bb133111eb; z ^= z >> 31) and each draw adds 0x9e3779b97f4a7c15 to the state and
 * returns mix(state); starting from the identity, for i = D-1 down to 1, j is drawn uniformly in
 * [0, i] by Lemire's multiply-and-reject method on 64-bit draws and entries i and j are swapped.
 *
 * @param in_features   input width, 1 .. FASTFOOD_MAX_IN_FEATURES.
 * @param out_features  output width, >= 1. Any value is valid; memory grows as ceil(out/D)*D.
 * @param seed          any 64-bit value; selects the permutations.
 * @param flags         0 or any of FASTFOOD_LAYER_BIAS and FASTFOOD_LAYER_NORMALIZED (since 1.1);
 *                      any other bit is rejected.
 * @param out_layer     receives the new layer; must not be NULL. Unchanged on failure.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER (out_layer NULL);
 *         FASTFOOD_ERROR_INVALID_ARGUMENT (a width 0, in_features too large, unknown flag bits);
 *         FASTFOOD_ERROR_SIZE_OVERFLOW (the parameter count would not fit in size_t bytes);
 *         FASTFOOD_ERROR_OUT_OF_MEMORY.
 * Ownership: the caller owns the layer and frees it with fastfood_layer_destroy().
 * Thread safety: may be called from any thread.
 */
FASTFOOD_API fastfood_status fastfood_layer_create(size_t in_features, size_t out_features,
                                                   uint64_t seed, uint32_t flags,
                                                   fastfood_layer **out_layer);

/**
 * Frees a layer. NULL is a no-op.
 *
 * Thread safety: no other call may be using the same layer at the same time or afterwards.
 */
FASTFOOD_API void fastfood_layer_destroy(fastfood_layer *layer);

/** Input width of the layer; 0 if layer is NULL. Thread safety: any thread. */
FASTFOOD_API size_t fastfood_layer_in_features(const fastfood_layer *layer);

/** Output width of the layer; 0 if layer is NULL. Thread safety: any thread. */
FASTFOOD_API size_t fastfood_layer_out_features(const fastfood_layer *layer);

/** Block size D: the smallest power of two >= in_features; 0 if layer is NULL.
 *  Thread safety: any thread. */
FASTFOOD_API size_t fastfood_layer_block_size(const fastfood_layer *layer);

/** Number of blocks K = ceil(out_features / D); 0 if layer is NULL. Thread safety: any thread. */
FASTFOOD_API size_t fastfood_layer_num_blocks(const fastfood_layer *layer);

/** Number of parameter elements: 3*K*D, plus out_features with FASTFOOD_LAYER_BIAS; 0 if layer
 *  is NULL. Size params and dparams arrays with it. Thread safety: any thread. */
FASTFOOD_API size_t fastfood_layer_param_count(const fastfood_layer *layer);

/** The flags the layer was created with; 0 if layer is NULL. Thread safety: any thread. */
FASTFOOD_API uint32_t fastfood_layer_flags(const fastfood_layer *layer);

/** The seed the layer was created with; 0 if layer is NULL. Thread safety: any thread. */
FASTFOOD_API uint64_t fastfood_layer_seed(const fastfood_layer *layer);

/**
 * Copies the layer's permutations.
 *
 * @param layer  the layer; must not be NULL.
 * @param perm   receives K*D entries; for block k, (PI_k v)[i] = v[perm[k*D + i]], with
 *               perm[k*D + i] in [0, D). Must not be NULL.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER.
 * Thread safety: any thread, as long as perm is not written concurrently.
 */
FASTFOOD_API fastfood_status fastfood_layer_permutation(const fastfood_layer *layer, size_t *perm);

/* ---------------------------------------------------------------------------------------------
 * Parameter initialisation
 * ------------------------------------------------------------------------------------------- */

/**
 * Fills params with the Fastfood initialisation of Le, Sarlos and Smola for a Gaussian RBF kernel
 * of bandwidth sigma, every scale folded into S:
 *
 *     B_i uniform on {-1, +1};   G_i ~ N(0, 1);
 *     S_i = s_i / ||G_k||_2 / (sigma * sqrt(D)),   s_i ~ chi(D);   bias = 0.
 *
 * Each row of the resulting V = S H G PI H B is then distributed like a row of a dense Gaussian
 * matrix with entries N(0, 1/sigma^2). Values are computed in double precision; the _f32 variant
 * stores them rounded to float, so for the same seed it equals (float) of the _f64 result.
 * Deterministic in (layer shape, seed, sigma) for a given build and C math library. Block k uses
 * its own random streams, so a block's values do not depend on out_features. glibc picks some of
 * its math routines by CPU (with FMA or without), so two machines with the same glibc can still
 * differ in the last bit of a few double-precision values (the _f32 values, rounded from them,
 * almost never move). The layer itself (fastfood_layer_create) is integer arithmetic and the same
 * everywhere. Data-parallel training should broadcast one rank's initial parameters rather than
 * rely on every rank's libm.
 *
 * @param layer   the layer; must not be NULL.
 * @param seed    any 64-bit value.
 * @param sigma   kernel bandwidth, finite and > 0 (1.0 is a sensible default).
 * @param params  receives fastfood_layer_param_count() elements; must not be NULL.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_INVALID_ARGUMENT (sigma, or a
 *         sigma whose parameters are not representable in the element type: a value that is
 *         not finite, or an S flushed to 0 or to a subnormal number, as sigma 1e39 gives in
 *         float; nothing is written). Before 1.4.3 also
 *         FASTFOOD_ERROR_OUT_OF_MEMORY; since then nothing is allocated: the values are
 *         computed twice, checked without being stored and then stored (twice 1.4.2's
 *         arithmetic, the same values bit for bit).
 * Thread safety: any thread, as long as params is not used concurrently.
 */
FASTFOOD_API fastfood_status fastfood_init_params_f32(const fastfood_layer *layer, uint64_t seed,
                                                      double sigma, float *params);

/** Double-precision variant of fastfood_init_params_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_init_params_f64(const fastfood_layer *layer, uint64_t seed,
                                                      double sigma, double *params);

/* ---------------------------------------------------------------------------------------------
 * Forward and backward
 * ------------------------------------------------------------------------------------------- */

/**
 * Forward pass: y[r] = layer(params, x[r]) for r in [0, batch).
 *
 * @param layer   the layer; must not be NULL.
 * @param params  fastfood_layer_param_count() elements in the documented layout; must not be NULL.
 * @param batch   number of rows; 0 is valid and does nothing (x and y may then be NULL).
 * @param x       batch rows of in_features elements, row stride ldx.
 * @param ldx     row stride of x in elements, >= in_features.
 * @param y       batch rows of out_features elements, row stride ldy. Must not overlap x or
 *                params, except exact in-place use (y == x and ldy == ldx, which needs
 *                ldx >= max(in_features, out_features); any ldy when batch is 1); in place, a
 *                layer of several blocks copies each tile's input rows first (correct since
 *                1.1; 1.0 gave wrong results for layers with out_features > D). Other overlaps
 *                are refused (since 1.4; see BATCHES above).
 * @param ldy     row stride of y in elements, >= out_features.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_INVALID_ARGUMENT (a stride
 *         shorter than its row; y overlapping x or params other than in place);
 *         FASTFOOD_ERROR_SIZE_OVERFLOW (batch * stride overflows);
 *         FASTFOOD_ERROR_OUT_OF_MEMORY (temporary work space).
 * NaN and infinity propagate as IEEE arithmetic says.
 * Thread safety: any thread; concurrent calls must use different y buffers.
 */
FASTFOOD_API fastfood_status fastfood_forward_f32(const fastfood_layer *layer, const float *params,
                                                  size_t batch, const float *x, size_t ldx,
                                                  float *y, size_t ldy);

/** Double-precision variant of fastfood_forward_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_forward_f64(const fastfood_layer *layer, const double *params,
                                                  size_t batch, const double *x, size_t ldx,
                                                  double *y, size_t ldy);

/** Backward flag: add the gradients into dx and dparams instead of overwriting them. The result
 *  is exactly old + (what the call without the flag would have written). */
#define FASTFOOD_ACCUMULATE 0x1u
/** Backward flags: do not compute the gradient of S, of G or of B (partly adaptive or, with all
 *  three, non-adaptive training that still learns the bias). The skipped sections of dparams are
 *  not written at all, with or without FASTFOOD_ACCUMULATE, and cost nothing to skip. */
#define FASTFOOD_SKIP_GRAD_S 0x2u
#define FASTFOOD_SKIP_GRAD_G 0x4u
#define FASTFOOD_SKIP_GRAD_B 0x8u

/**
 * Backward pass: given the upstream gradient dy = dL/dy, computes dx = dL/dx and
 * dparams = dL/dparams summed over the batch. Needs only x and dy: no state is kept from the
 * forward call (the forward intermediates are recomputed, which costs less than storing them).
 *
 * @param layer    the layer; must not be NULL.
 * @param params   the parameters the forward used; must not be NULL.
 * @param batch    number of rows; 0 is valid (dparams, if given and not accumulating, is zeroed).
 * @param x        the forward's input, row stride ldx >= in_features. Read only when dparams is
 *                 not NULL; may be NULL otherwise (or when batch is 0).
 * @param ldx      row stride of x (checked only when x is read).
 * @param dy       upstream gradient, batch rows of out_features, row stride lddy >= out_features;
 *                 must not be NULL unless batch is 0.
 * @param lddy     row stride of dy.
 * @param dx       receives the input gradient, batch rows of in_features, row stride lddx; NULL
 *                 means "not needed" (the first layer of a network).
 * @param lddx     row stride of dx, >= in_features (checked only when dx is not NULL).
 * @param dparams  receives the parameter gradient, fastfood_layer_param_count() elements in the
 *                 params layout, summed over the batch; NULL means "not needed" (non-adaptive
 *                 Fastfood: fixed S, G, B).
 * @param flags    FASTFOOD_ACCUMULATE and FASTFOOD_SKIP_GRAD_S / _G / _B, or 0; any other bit is
 *                 rejected.
 * In place (since 1.4): dx may be exactly dy, or exactly x (the same pointer and, when batch > 1,
 * the same row stride; lddx == lddy then needs a stride >= max(in_features, out_features)); the
 * results are bitwise those of separate buffers, and with FASTFOOD_ACCUMULATE the values added
 * to are the input's. Any other overlap of an output (dx, dparams) with an input (params, dy, x
 * when it is read) or with the other output is refused before anything is written, dparams
 * included (1.3 and earlier gave wrong results).
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_INVALID_ARGUMENT (strides,
 *         flags, overlapping buffers); FASTFOOD_ERROR_SIZE_OVERFLOW; FASTFOOD_ERROR_OUT_OF_MEMORY.
 * Thread safety: any thread; concurrent calls must use different dx and dparams buffers.
 */
FASTFOOD_API fastfood_status fastfood_backward_f32(const fastfood_layer *layer, const float *params,
                                                   size_t batch, const float *x, size_t ldx,
                                                   const float *dy, size_t lddy, float *dx,
                                                   size_t lddx, float *dparams, uint32_t flags);

/** Double-precision variant of fastfood_backward_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_backward_f64(const fastfood_layer *layer,
                                                   const double *params, size_t batch,
                                                   const double *x, size_t ldx, const double *dy,
                                                   size_t lddy, double *dx, size_t lddx,
                                                   double *dparams, uint32_t flags);

/* ---------------------------------------------------------------------------------------------
 * Threads and kernels
 * ------------------------------------------------------------------------------------------- */

/**
 * Sets how many threads every later compute call may use (forward, backward), process-wide.
 *
 * The library keeps a persistent pool of worker threads; the calling thread always works too, so
 * n threads means the caller plus n - 1 pool threads. The default is the value of the environment
 * variable FASTFOOD_NUM_THREADS (read once, when the library is first used) if it is a positive
 * decimal integer (digits only, an optional leading +; above 1024 means 1024), else the number
 * of CPUs the thread that first uses the library may run on: its affinity mask, as nproc counts
 * them, which taskset, cpusets and containers restrict (since 1.2.1; before, every online CPU,
 * so a process confined to one CPU of a large machine ran as many threads as the machine had
 * CPUs, all on that one). Results are bitwise identical for every thread count: work is split
 * by batch size alone and parameter gradients are summed in a fixed order.
 *
 * After a parallel call, pool threads poll for the next one for 0.1 ms before they sleep (waking
 * a sleeping thread takes about as long as a small layer's share of work), so back-to-back calls
 * start at once; with n = 1 no pool thread runs at all. Lowering n ends the surplus pool
 * threads and raising it starts new ones at the next parallel call, so set it once rather than
 * around individual calls. A pool thread that cannot be created (pthread_create fails: a pids
 * cgroup or RLIMIT_NPROC exhausted) is not an error: the call runs on the threads that exist,
 * with the same results, and the next parallel call tries again.
 *
 * @param n  1 .. 1024, or 0 for one thread per CPU the calling thread may run on (as above).
 * @return FASTFOOD_OK; FASTFOOD_ERROR_INVALID_ARGUMENT (n > 1024, or, since 1.3.1, called by an
 *         executor on the thread whose call it is running: nothing changes).
 * Thread safety: any thread, at any time, except from inside an executor call (see
 * fastfood_executor); a call in progress finishes with the threads it started with, and this
 * function waits for a parallel call in flight before resizing the pool.
 */
FASTFOOD_API fastfood_status fastfood_set_num_threads(size_t n);

/**
 * The number of threads compute calls may use (>= 1), as set by fastfood_set_num_threads() or
 * the default. Thread safety: any thread.
 */
FASTFOOD_API size_t fastfood_get_num_threads(void);

/**
 * One task of a parallel call, as the library hands it to an executor: runs task `task` of the
 * call `job` using worker slot `worker`. Pass back exactly the `job` the executor was given.
 */
typedef void (*fastfood_task_function)(void *job, size_t task, size_t worker);

/**
 * A parallel-for supplied by the caller (since 1.3), e.g. the thread pool of the framework the
 * library is linked into; see fastfood_set_executor().
 *
 * Called by a compute call (forward, backward, their training and random-feature forms) that has
 * tasks to spread over threads: at least 2 tasks and fastfood_get_num_threads() >= 2, with
 * workers = min(fastfood_get_num_threads(), tasks) >= 2. The executor either declines, returning
 * 0 without calling `run` (the library then uses its own pool threads, as without an executor),
 * or returns nonzero after it has called run(job, t, w) exactly once for every t in
 * 0 .. tasks - 1, each with a worker slot w < workers that no other task is using at the same
 * time, from any threads (the calling thread included), in any order, and every run has returned.
 * Results do not depend on which thread ran which task or in what order: they are bitwise those
 * of the library's own threads. A task runs under the calling thread's floating-point control
 * bits (rounding mode, flush-to-zero), restoring the running thread's own bits before it returns.
 *
 * The executor must not call fastfood_set_executor() or fastfood_set_num_threads(): they wait
 * for the call in flight, which waits for the executor. (Since 1.3.1, called on the thread whose
 * call the executor is running, they return FASTFOOD_ERROR_INVALID_ARGUMENT at once instead of
 * waiting forever; from the executor's other threads they still wait: a deadlock.) It may make
 * other fastfood calls, which then run on the thread that makes them, each with its own work
 * space (since 1.3.1: in 1.3.0 such a call made on the thread whose call the executor was running
 * reused that call's work space, which gave it wrong parameter gradients, or crashed). It must
 * not throw or longjmp across `run`.
 *
 * @param context  the pointer given to fastfood_set_executor().
 * @param job      opaque; pass it to `run` unchanged.
 * @param run      the library's task function; never NULL.
 * @param tasks    how many tasks (>= 2).
 * @param workers  how many worker slots (2 .. tasks): at most this many tasks may run at once.
 * @return 0 to decline (nothing run), nonzero when every task has run.
 */
typedef int (*fastfood_executor)(void *context, void *job, fastfood_task_function run, size_t tasks,
                                 size_t workers);

/**
 * Runs later parallel compute calls on the caller's threads instead of the library's pool
 * (since 1.3), process-wide: a program or framework with its own thread pool (a server that
 * bounds the threads a request may use, TBB arenas, OpenMP) then runs fastfood's work on it and
 * no second set of threads exists. (On libtorch's OpenMP threads, through at::parallel_for, it
 * measured slower than the library's pool: the README, "Training through libtorch", has the
 * figures and the executor used.) NULL restores the library's own pool.
 *
 * Installing an executor ends the pool threads that exist (a declined call starts them again).
 * fastfood_set_num_threads() still sets how many worker slots a call offers (1 = no executor and
 * no pool: every call on the calling thread). In a child process forked from one that had loaded
 * the library, calls run on the calling thread and the executor is not called.
 *
 * The call checks the executor's work: a task or worker index out of range, a task run twice
 * or not at all, a worker slot used by two tasks at once, or a nonzero return with a task still
 * unrun makes the compute call return FASTFOOD_ERROR_INVALID_ARGUMENT with a message that says
 * so; its outputs (y, dx, phi) are then unspecified (the exception to the ERRORS section's rule:
 * tasks that did run have written theirs), while parameter gradients are left untouched.
 *
 * @param executor  the parallel-for, or NULL for the library's pool.
 * @param context   passed to every executor call; must stay valid until the executor is replaced.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_INVALID_ARGUMENT (since 1.3.1: called by an executor on
 *         the thread whose call it is running; nothing changes).
 * Thread safety: any thread except from inside an executor call (see fastfood_executor); waits
 * for a parallel call in flight to finish, so once it returns no call uses the previous executor
 * or context.
 */
FASTFOOD_API fastfood_status fastfood_set_executor(fastfood_executor executor, void *context);

/**
 * The compute kernels this process uses: "generic" (baseline x86-64), "avx2" (AVX2, FMA, BMI2) or
 * "avx512" (AVX-512 F/CD/BW/DQ/VL).
 *
 * The library carries all three and picks, when it is first used, the widest one the CPU
 * supports. The environment variable FASTFOOD_CPU (generic, avx2 or avx512) forces a variant the
 * CPU supports; a value naming no supported variant is ignored. All variants compute
 * bit-identical results.
 *
 * @return a static NUL-terminated string owned by the library; never NULL.
 * Thread safety: any thread.
 */
FASTFOOD_API const char *fastfood_cpu_variant(void);

/* ---------------------------------------------------------------------------------------------
 * Fast Walsh-Hadamard transform
 * ------------------------------------------------------------------------------------------- */

/**
 * In-place unnormalised Walsh-Hadamard transform in natural (Sylvester) order of count vectors:
 * vector c occupies data[c*stride .. c*stride + n). Applying it twice multiplies by n.
 *
 * @param data    the vectors; must not be NULL unless count is 0.
 * @param n       vector length: a power of two >= 1 (n elements must be addressable).
 * @param count   number of vectors; 0 is valid and does nothing.
 * @param stride  distance in elements between the starts of consecutive vectors, >= n when
 *                count > 1 (ignored when count is 1).
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_INVALID_ARGUMENT (n not a power
 *         of two, stride < n); FASTFOOD_ERROR_SIZE_OVERFLOW.
 * Thread safety: any thread; concurrent calls must use different data.
 */
FASTFOOD_API fastfood_status fastfood_fwht_f32(float *data, size_t n, size_t count, size_t stride);

/** Double-precision variant of fastfood_fwht_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_fwht_f64(double *data, size_t n, size_t count, size_t stride);

/* ---------------------------------------------------------------------------------------------
 * Initialisation presets
 * ------------------------------------------------------------------------------------------- */

/** Le et al.'s RBF initialisation, as fastfood_init_params_*; value = sigma (finite, > 0). */
#define FASTFOOD_INIT_RBF 0u
/** Variance preserving, for use inside deep networks; value = gain (finite, > 0).
 *  B_i = +-1, G_i ~ N(0, 1), S_i = gain / (||G_k|| * sqrt(in_features)), bias 0. Every row of the
 *  layer's matrix then has expected squared norm gain^2 over the input coordinates, so for
 *  inputs with independent zero-mean entries of variance v the outputs have variance gain^2 * v
 *  on average over the outputs (as He / Glorot for dense layers: gain = sqrt(2) before a ReLU,
 *  1 for linear). Exact when in_features = D, in expectation over the permutations otherwise. */
#define FASTFOOD_INIT_VARIANCE 1u
/** Near identity; value = epsilon (finite, >= 0). B_i = 1, G_i = 1 + epsilon * z_i,
 *  S_i = (1 + epsilon * z'_i) / D with z, z' ~ N(0, 1), bias 0: nearly constant diagonals, and a
 *  layer close to the orthogonal map (1/D) H PI H (norm preserving when in = out = D). */
#define FASTFOOD_INIT_NEAR_IDENTITY 2u

/**
 * Fills params with one of the FASTFOOD_INIT_* initialisations. Deterministic in (layer shape,
 * preset, seed, value) for a given build and C math library (with the same caveat as
 * fastfood_init_params_f32: glibc's math routines depend on the CPU); the _f32 variant stores the
 * rounded double-precision values.
 *
 * @param layer   the layer; must not be NULL.
 * @param preset  FASTFOOD_INIT_RBF, FASTFOOD_INIT_VARIANCE or FASTFOOD_INIT_NEAR_IDENTITY.
 * @param seed    any 64-bit value.
 * @param value   the preset's parameter (sigma, gain or epsilon; see each preset).
 * @param params  receives fastfood_layer_param_count() elements; must not be NULL.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_INVALID_ARGUMENT (unknown preset,
 *         value out of range, or a value whose parameters are not representable in the element
 *         type, as for fastfood_init_params_f32: nothing is written). Allocates nothing (since
 *         1.4.3), as fastfood_init_params_f32.
 * Thread safety: any thread, as long as params is not used concurrently.
 */
FASTFOOD_API fastfood_status fastfood_init_params_preset_f32(const fastfood_layer *layer, uint32_t preset,
                                                             uint64_t seed, double value, float *params);

/** Double-precision variant of fastfood_init_params_preset_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_init_params_preset_f64(const fastfood_layer *layer, uint32_t preset,
                                                             uint64_t seed, double value, double *params);

/* ---------------------------------------------------------------------------------------------
 * Training with dropout inside the transform
 * ------------------------------------------------------------------------------------------- */

/**
 * Training-mode forward pass with dropout at the three places of the paper (section 6.1): on the
 * input (before B), after PI, and after S (before the bias):
 *
 *     y = drop_out(S H G drop_pi(PI H B drop_in(x))) + bias.
 *
 * Each rate is the probability of zeroing a value; kept values are divided by 1 - rate (inverted
 * dropout), so inference uses fastfood_forward_* unchanged. With all rates 0 the result equals
 * fastfood_forward_* bit for bit.
 *
 * The masks are never stored: they are a function of (seed, step, row, site, position), where row
 * is the row's index within this call. For row r, with mix the SplitMix64 output function
 * documented at fastfood_layer_create, all arithmetic on 32 bits mod 2^32 except k's:
 *
 *     k         = mix(mix(mix(seed ^ 0xd1b54a32d192ed03) ^ step) ^ r)            (64 bits)
 *     h         = hash32((k mod 2^32) ^ ((i >> 1) * 0x9e3779b9) ^ (s * 0x632be5ab))
 *     draw      = i even ? h & 0xffff : h >> 16
 *     threshold = min(65535, round(rate * 65536))      (round: halfway cases away from zero)
 *     hash32(x) = x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
 *
 * position i of site s (1: input, i < in_features; 2: after PI, i = block * D + position;
 * 3: after S, i < out_features) is kept iff draw >= threshold: a value is dropped with
 * probability threshold / 65536, within 2^-17 of the rate. Use a new step for every training
 * step; fastfood_backward_train_* with the same rows, seed and step applies the same masks. The
 * masks do not depend on the thread count, and the results are bitwise those of the same call
 * row by row. (Changed in 1.1: 1.0 drew one SplitMix64 number per position, which the vector
 * kernels cannot afford; one 32-bit hash now serves two positions, 16 rows at a time.)
 *
 * @param drop_input     rate at site 1 (the input), finite and in [0, 1).
 * @param drop_permuted  rate at site 2 (after PI), finite and in [0, 1).
 * @param drop_output    rate at site 3 (after S), finite and in [0, 1).
 * @param seed           selects the masks, with step.
 * @param step           selects the masks, with seed: a new one for every training step.
 * Other parameters and errors: as fastfood_forward_f32 (FASTFOOD_ERROR_INVALID_ARGUMENT for a
 * rate out of range). Since 1.1 it runs on the same interleaved kernels as fastfood_forward_*,
 * with the masks made in vector registers; a site whose rate is 0 costs nothing.
 * Thread safety: as fastfood_forward_f32.
 */
FASTFOOD_API fastfood_status fastfood_forward_train_f32(const fastfood_layer *layer, const float *params,
                                                        size_t batch, const float *x, size_t ldx, float *y,
                                                        size_t ldy, double drop_input, double drop_permuted,
                                                        double drop_output, uint64_t seed, uint64_t step);

/** Double-precision variant of fastfood_forward_train_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_forward_train_f64(const fastfood_layer *layer, const double *params,
                                                        size_t batch, const double *x, size_t ldx, double *y,
                                                        size_t ldy, double drop_input, double drop_permuted,
                                                        double drop_output, uint64_t seed, uint64_t step);

/**
 * The backward pass of fastfood_forward_train_f32() with the same rates, seed and step: the
 * gradients of the dropped network (dropped positions get zero gradient, kept ones are scaled
 * by 1 / (1 - rate)). Parameters, flags and errors as fastfood_backward_f32 plus the dropout
 * arguments of fastfood_forward_train_f32.
 * Thread safety: as fastfood_backward_f32.
 */
FASTFOOD_API fastfood_status fastfood_backward_train_f32(const fastfood_layer *layer, const float *params,
                                                         size_t batch, const float *x, size_t ldx, const float *dy,
                                                         size_t lddy, float *dx, size_t lddx, float *dparams,
                                                         uint32_t flags, double drop_input, double drop_permuted,
                                                         double drop_output, uint64_t seed, uint64_t step);

/** Double-precision variant of fastfood_backward_train_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_backward_train_f64(const fastfood_layer *layer, const double *params,
                                                         size_t batch, const double *x, size_t ldx,
                                                         const double *dy, size_t lddy, double *dx, size_t lddx,
                                                         double *dparams, uint32_t flags, double drop_input,
                                                         double drop_permuted, double drop_output, uint64_t seed,
                                                         uint64_t step);

/* ---------------------------------------------------------------------------------------------
 * Random-feature maps (Le et al.; paper section 3.2)
 * ------------------------------------------------------------------------------------------- */

/**
 * Gaussian-kernel random features: with z = the layer's output for x (out_features numbers,
 * bias included if the layer has one),
 *
 *     phi(x) = sqrt(1 / out_features) * [cos(z_1) ... cos(z_n), sin(z_1) ... sin(z_n)].
 *
 * With the RBF initialisation of bandwidth sigma (fixed parameters: the non-adaptive Fastfood),
 * phi(x) . phi(x') approximates exp(-||x - x'||^2 / (2 sigma^2)); training the parameters with
 * fastfood_features_backward_* learns the kernel (the adaptive Fastfood).
 *
 * cos and sin are the library's own (since 1.1: vector polynomials after a Cody-Waite
 * reduction, the same bits on every CPU and thread count; since 1.4.1 with the factor
 * sqrt(1 / out_features) folded into the polynomials, so values differ from 1.4.0's by up to 2
 * units in the last place; since 1.4.10 float's reduce by pi/16 and take the factor times
 * sin(k pi/16) from a table, faster, with values that differ from 1.4.9's within the bound
 * that follows; since 1.5.1 float's fuse each multiply with the addition after it, faster
 * again, values within the same bound): phi divided by that factor has absolute error at most
 * 4 * 2^-24 (float) or 4 * 2^-53 (double) against cos and sin; for |z| above 8192 (float) or
 * 2^20 (double), infinities and NaN, the C library's cosf/sinf or cos/sin times the factor.
 *
 * @param phi     batch rows of 2 * out_features elements, row stride ldphi >= 2 * out_features;
 *                exact in-place use (phi == x, ldphi == ldx) as for fastfood_forward_f32, and
 *                other overlaps refused as there.
 * Other parameters and errors: as fastfood_forward_f32. Temporary memory as fastfood_forward_f32
 * (since 1.1 none per call beyond it: z is finished into phi in place; since 1.4.11 rows that
 * run in the interleaved tiles get cos and sin straight from z in registers, z itself never
 * stored, with the same values).
 * Thread safety: as fastfood_forward_f32.
 */
FASTFOOD_API fastfood_status fastfood_features_forward_f32(const fastfood_layer *layer, const float *params,
                                                           size_t batch, const float *x, size_t ldx, float *phi,
                                                           size_t ldphi);

/** Double-precision variant of fastfood_features_forward_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_features_forward_f64(const fastfood_layer *layer, const double *params,
                                                           size_t batch, const double *x, size_t ldx, double *phi,
                                                           size_t ldphi);

/**
 * Backward pass of fastfood_features_forward_f32(): from dphi (batch rows of 2 * out_features,
 * row stride lddphi) to dx and dparams, with the flags of fastfood_backward_f32. x is always
 * required (z is recomputed from it, tile by tile, in the call's work space: since 1.1 no
 * batch-sized temporary, and the backward pass's own recompute of the layer gives z, so the
 * call costs about one backward pass plus cos and sin). Since 1.4.1 the results are bitwise
 * those of fastfood_features_backward_from_phi_f32() given the phi fastfood_features_forward_f32()
 * returns for the same params and x: the cos and sin recomputed here are phi's own values.
 * Since 1.5.2 a tile makes each block's output gradient from dphi in two passes over the whole
 * block (the dcos half, then the dsin half with cos and sin) before that block's transform,
 * instead of chunk by chunk inside it: the same values, 0.90x-0.97x of 1.5.1's time on an AMD
 * EPYC Zen 4 (128 rows, one thread, 1024 to 16384 wide), no more memory.
 * Errors, and the in-place uses (dx == x or dx == dphi, since 1.4), as fastfood_backward_f32.
 * Thread safety: as fastfood_backward_f32.
 */
FASTFOOD_API fastfood_status fastfood_features_backward_f32(const fastfood_layer *layer, const float *params,
                                                            size_t batch, const float *x, size_t ldx,
                                                            const float *dphi, size_t lddphi, float *dx,
                                                            size_t lddx, float *dparams, uint32_t flags);

/** Double-precision variant of fastfood_features_backward_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_features_backward_f64(const fastfood_layer *layer, const double *params,
                                                            size_t batch, const double *x, size_t ldx,
                                                            const double *dphi, size_t lddphi, double *dx,
                                                            size_t lddx, double *dparams, uint32_t flags);

/**
 * Backward pass of fastfood_features_forward_f32() from the phi that call returned (since 1.2):
 * the layer's output gradient is, element by element,
 *
 *     dy[r][i] = phi[r][i] * dphi[r][n + i] - phi[r][n + i] * dphi[r][i]     (n = out_features),
 *
 * each product rounded, then their difference, and the rest is exactly fastfood_backward_f32()
 * with that dy: the results are bitwise those of computing dy so (without fused multiply-adds) and
 * calling fastfood_backward_f32(). No cos or sin is evaluated and z is not recomputed, but phi
 * is read besides dphi: on an AMD EPYC Zen 4 (128 rows, one thread, 1.5.2) this call takes
 * 0.92x the recomputing backward's time at 1024 wide and 1.00x-1.09x of it from 4096 to 16384
 * (1.5.1: 0.87x, then 1.00x-1.01x). Either serves when phi is kept (it is the next layer's
 * input, so a training loop usually has it). Given the phi that
 * fastfood_features_forward_f32() returned for these params and x, it gives
 * fastfood_features_backward_f32()'s results bit for bit (since 1.4.1; to rounding before).
 *
 * @param phi     the forward's output, batch rows of 2 * out_features, row stride
 *                ldphi >= 2 * out_features; must not be NULL unless batch is 0. Only read.
 * @param ldphi   row stride of phi.
 * @param x       the forward's input, read only when dparams is not NULL (may be NULL otherwise),
 *                as for fastfood_backward_f32(); ldx likewise.
 * @param dphi    phi's gradient, batch rows of 2 * out_features ([dL/dcos part | dL/dsin part]),
 *                row stride lddphi >= 2 * out_features; must not be NULL unless batch is 0.
 * @param lddphi  row stride of dphi.
 * layer, params, batch, dx, lddx, dparams and flags: as fastfood_backward_f32() (batch 0 is valid:
 * nothing is read, and dparams, if given and not accumulating, is zeroed). dx may be exactly x,
 * phi or dphi (in place, as for fastfood_backward_f32(), since 1.4); other overlaps are refused
 * as there.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER (layer, params, phi, dphi, or x when dparams is
 *         not NULL); FASTFOOD_ERROR_INVALID_ARGUMENT (strides, flags, overlapping buffers);
 *         FASTFOOD_ERROR_SIZE_OVERFLOW;
 *         FASTFOOD_ERROR_OUT_OF_MEMORY (temporary work space: per worker thread, one tile of rows
 *         of out_features elements besides the backward's; nothing batch-sized).
 * Thread safety: as fastfood_backward_f32().
 */
FASTFOOD_API fastfood_status fastfood_features_backward_from_phi_f32(const fastfood_layer *layer, const float *params,
                                                                     size_t batch, const float *x, size_t ldx,
                                                                     const float *phi, size_t ldphi,
                                                                     const float *dphi, size_t lddphi, float *dx,
                                                                     size_t lddx, float *dparams, uint32_t flags);

/** Double-precision variant of fastfood_features_backward_from_phi_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_features_backward_from_phi_f64(const fastfood_layer *layer, const double *params,
                                                                     size_t batch, const double *x, size_t ldx,
                                                                     const double *phi, size_t ldphi,
                                                                     const double *dphi, size_t lddphi, double *dx,
                                                                     size_t lddx, double *dparams, uint32_t flags);

/* ---------------------------------------------------------------------------------------------
 * Saving and loading
 * ------------------------------------------------------------------------------------------- */

/**
 * A layer and its parameters are saved in a versioned, little-endian binary format (version
 * FASTFOOD_FORMAT_VERSION):
 *
 *     offset  size  field
 *          0     8  magic "FFLAYER\0"
 *          8     4  format version (1)
 *         12     4  header size in bytes (64)
 *         16     8  in_features
 *         24     8  out_features
 *         32     8  seed
 *         40     4  layer flags (FASTFOOD_LAYER_BIAS, FASTFOOD_LAYER_NORMALIZED; a reader older
 *                   than 1.1 rejects a file with the second as BAD_FORMAT)
 *         44     4  element type: FASTFOOD_TYPE_F32 (1) or FASTFOOD_TYPE_F64 (2), IEEE 754
 *         48     8  parameter count (3*K*D, + out_features with a bias)
 *         56     8  permutation digest: FNV-1a 64 of all K*D permutation entries, each written as
 *                   4 little-endian bytes
 *         64     -  the parameters in the documented layout, count * element size bytes
 *        end     8  CRC-64/XZ (as xz uses) of every byte before it
 *
 * Loading checks, before writing anything the caller owns: size at least 72 bytes, magic,
 * version (a newer one gives FASTFOOD_ERROR_UNSUPPORTED_VERSION), header size, flags, element
 * type, a valid shape, the parameter count against the shape, the total size against the
 * header (so a lying header never causes a large allocation or a read past the end), the
 * checksum; then the permutations are regenerated from the seed and checked against the digest.
 * Everything else gives FASTFOOD_ERROR_BAD_FORMAT with a message that says what is wrong.
 */
#define FASTFOOD_FORMAT_VERSION 1u
/** Element types of saved parameters. */
#define FASTFOOD_TYPE_F32 1u
#define FASTFOOD_TYPE_F64 2u

/**
 * The exact number of bytes fastfood_save_f32 / _f64 write for this layer.
 *
 * @param layer         the layer; must not be NULL.
 * @param element_type  FASTFOOD_TYPE_F32 or FASTFOOD_TYPE_F64.
 * @param size          receives the size; must not be NULL.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_INVALID_ARGUMENT (element type);
 *         FASTFOOD_ERROR_SIZE_OVERFLOW.
 * Thread safety: any thread.
 */
FASTFOOD_API fastfood_status fastfood_save_size(const fastfood_layer *layer, uint32_t element_type, size_t *size);

/**
 * Writes the layer and its parameters into a caller-provided buffer (to embed a layer in a
 * framework's own checkpoint).
 *
 * @param layer        the layer; must not be NULL.
 * @param params       fastfood_layer_param_count() elements; must not be NULL.
 * @param buffer       receives fastfood_save_size() bytes; must not be NULL, and must not overlap
 *                     params.
 * @param buffer_size  bytes available at buffer; must be at least fastfood_save_size().
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_INVALID_ARGUMENT (buffer too
 *         small, or its fastfood_save_size() bytes overlapping params (since 1.4): nothing is
 *         written).
 * Thread safety: any thread, as long as buffer is not used concurrently.
 */
FASTFOOD_API fastfood_status fastfood_save_f32(const fastfood_layer *layer, const float *params, void *buffer,
                                               size_t buffer_size);

/** Double-precision variant of fastfood_save_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_save_f64(const fastfood_layer *layer, const double *params, void *buffer,
                                               size_t buffer_size);

/**
 * Saves the layer and its parameters to a file, atomically: the data goes to a temporary file in
 * the same directory, which is flushed to disk and then renamed over path (and the directory
 * flushed). On any failure the temporary file is removed and a previous file at path is left
 * exactly as it was.
 * The file gets the permissions of the file it replaces; a new one gets 0666 less the process's
 * umask (and as the directory's default ACL says), as fopen() would give it (since 1.2.1; before,
 * 0644 whatever the umask). The temporary file is named ".fastfood-XXXXXX" in that directory, so
 * any valid file name (up to NAME_MAX bytes) can be saved; it is created exclusively (a name that
 * is already taken is never opened: another is tried, FASTFOOD_ERROR_IO "File exists" after 1000
 * tries); its descriptor is close-on-exec (since 1.2.1), so a program another thread starts
 * during the save does not inherit it. A symbolic link at path is followed (since 1.1): the file
 * it points to is replaced and the link stays; a link to nothing is FASTFOOD_ERROR_IO.
 * A save cut short (SIGKILL, a power cut) leaves at path the previous file or the new one, whole;
 * cut short before the rename, it also leaves its temporary file behind. The library never deletes
 * ".fastfood-*" files it did not create in that call (one may be another process's save in
 * progress), so remove stale ones yourself where they matter.
 *
 * @param path  file name, as bytes in any encoding; must not be NULL.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_IO (the message gives the
 *         operation, the path and the system's reason); FASTFOOD_ERROR_OUT_OF_MEMORY.
 * Thread safety: any thread; concurrent saves to the same path leave one of the files whole.
 */
FASTFOOD_API fastfood_status fastfood_save_file_f32(const fastfood_layer *layer, const float *params,
                                                    const char *path);

/** Double-precision variant of fastfood_save_file_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_save_file_f64(const fastfood_layer *layer, const double *params,
                                                    const char *path);

/**
 * Validates saved data completely (as loading does, permutation digest included) and reports
 * what it holds, so the caller can allocate the parameters before loading. The outputs are
 * written only on success.
 *
 * @param buffer        the saved bytes; must not be NULL.
 * @param size          their count.
 * @param in_features   receives the header's in_features; may be NULL (not wanted).
 * @param out_features  receives out_features; may be NULL.
 * @param seed          receives the layer's seed; may be NULL.
 * @param flags         receives its FASTFOOD_LAYER_* flags; may be NULL.
 * @param element_type  receives FASTFOOD_TYPE_F32 or FASTFOOD_TYPE_F64; may be NULL.
 * @param param_count   receives the parameter count; may be NULL.
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_BAD_FORMAT;
 *         FASTFOOD_ERROR_UNSUPPORTED_VERSION; FASTFOOD_ERROR_OUT_OF_MEMORY (regenerating PI).
 * Thread safety: any thread.
 */
FASTFOOD_API fastfood_status fastfood_load_info(const void *buffer, size_t size, size_t *in_features,
                                                size_t *out_features, uint64_t *seed, uint32_t *flags,
                                                uint32_t *element_type, size_t *param_count);

/** fastfood_load_info() for a file (FASTFOOD_ERROR_IO if it cannot be read; a path that is not a
 *  regular file is an I/O error; FASTFOOD_ERROR_OUT_OF_MEMORY if the file does not fit in memory). */
FASTFOOD_API fastfood_status fastfood_load_file_info(const char *path, size_t *in_features, size_t *out_features,
                                                     uint64_t *seed, uint32_t *flags, uint32_t *element_type,
                                                     size_t *param_count);

/**
 * Loads saved data: creates the layer (permutations regenerated from the seed and checked) and
 * copies the parameters.
 *
 * @param buffer        the saved bytes; must not be NULL.
 * @param size          their count.
 * @param out_layer     receives the new layer (the caller destroys it); must not be NULL.
 * @param params        receives param_count elements; must not be NULL, and must not overlap the
 *                      size bytes at buffer.
 * @param param_count   must equal the saved parameter count (see fastfood_load_info).
 * @return FASTFOOD_OK; FASTFOOD_ERROR_NULL_POINTER; FASTFOOD_ERROR_BAD_FORMAT;
 *         FASTFOOD_ERROR_UNSUPPORTED_VERSION; FASTFOOD_ERROR_INVALID_ARGUMENT (param_count differs,
 *         or the data holds the other element type: use the matching _f32 / _f64 function; or,
 *         since 1.4, params overlaps buffer);
 *         FASTFOOD_ERROR_OUT_OF_MEMORY. On failure *out_layer and params are untouched.
 * Thread safety: any thread, as long as params is not used concurrently.
 */
FASTFOOD_API fastfood_status fastfood_load_f32(const void *buffer, size_t size, fastfood_layer **out_layer,
                                               float *params, size_t param_count);

/** Double-precision variant of fastfood_load_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_load_f64(const void *buffer, size_t size, fastfood_layer **out_layer,
                                               double *params, size_t param_count);

/** fastfood_load_f32() from a file written by fastfood_save_file_f32 (or any copy of a saved
 *  buffer). Adds FASTFOOD_ERROR_IO for a file that cannot be read. The file's header is checked
 *  against its real size before the file is read in full; FASTFOOD_ERROR_OUT_OF_MEMORY if it does
 *  not fit in memory. path: bytes in any encoding. */
FASTFOOD_API fastfood_status fastfood_load_file_f32(const char *path, fastfood_layer **out_layer, float *params,
                                                    size_t param_count);

/** Double-precision variant of fastfood_load_file_f32(); same contract. */
FASTFOOD_API fastfood_status fastfood_load_file_f64(const char *path, fastfood_layer **out_layer, double *params,
                                                    size_t param_count);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FASTFOOD_H */
