/* Header-only target: see include/cnnrt_shims.h. */
