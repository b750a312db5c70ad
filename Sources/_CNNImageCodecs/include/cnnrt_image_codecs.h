// PNG and JPEG decoding (libpng, libjpeg-turbo), PNG writing, and inflate (zlib: .gz
// files, deflated .npz members) for the cnnrt tools.
// Tools only: libcnnrt never links these libraries.
#ifndef CNNRT_IMAGE_CODECS_H
#define CNNRT_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The header of an 8-bit image (rows top to bottom, channels interleaved),
/// filled by the *_info calls.
typedef struct cnnrt_decoded_image {
  uint8_t *pixels;   ///< NULL (the pixels go to the caller's buffer, *_into)
  int32_t width;
  int32_t height;
  int32_t channels;  ///< 1 (gray) or 3 (RGB)
} cnnrt_decoded_image;

/// Two-step decoding into a caller's buffer (one copy of the pixels in
/// memory). PNG: palette and 16-bit images are converted to 8 bits, alpha is
/// dropped (composited on black). JPEG: baseline or progressive, gray or RGB
/// out, CMYK rejected. *_info reads the header and fills width, height and
/// channels of `out` (pixels NULL), refusing images above 256 MiB; *_into
/// decodes into `pixels`, which holds `capacity` bytes (at least
/// width * height * channels, else -1). Both return 0 or -1 with a message.
int cnnrt_png_info(const uint8_t *data, size_t size, cnnrt_decoded_image *out, char *error, size_t error_size);
int cnnrt_decode_png_into(const uint8_t *data, size_t size, uint8_t *pixels, size_t capacity, char *error,
                          size_t error_size);
int cnnrt_jpeg_info(const uint8_t *data, size_t size, cnnrt_decoded_image *out, char *error, size_t error_size);
int cnnrt_decode_jpeg_into(const uint8_t *data, size_t size, uint8_t *pixels, size_t capacity, char *error,
                           size_t error_size);

/// Writes an 8-bit gray (channels 1) or RGB (channels 3) image, rows top to
/// bottom without padding, as a PNG file at `path` (replaced if present).
/// Returns 0, or -1 with a message (bad arguments, cannot write the file).
int cnnrt_write_png(const char *path, const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                    char *error, size_t error_size);

/// Inflates `size` bytes: gzip or zlib streams when `raw` is 0 (format
/// detected from the header), a raw deflate stream (zip member) when `raw`
/// is 1. Concatenated gzip members are all inflated. On success returns 0
/// and stores a malloc'ed buffer in `*out` (free with free()) and its length
/// in `*out_size`; refuses to produce more than `limit` bytes.
/// Returns -1 with a message in `error` on corrupt or truncated input.
int cnnrt_inflate(const uint8_t *data, size_t size, int raw, size_t limit, uint8_t **out,
                  size_t *out_size, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
