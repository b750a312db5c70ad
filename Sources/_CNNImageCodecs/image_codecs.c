// PNG (libpng simplified API) and JPEG (libjpeg-turbo) decoding into
// 8-bit gray or RGB buffers for the cnnrt tools.
#include "cnnrt_image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>  // needs stdio.h first
#include <png.h>
#include <zlib.h>

static void set_error(char *error, size_t error_size, const char *what, const char *detail) {
  if (error != NULL && error_size > 0) {
    snprintf(error, error_size, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
  }
}

// Refuse images whose pixel buffer would exceed 256 MiB: a corrupt header
// must not make the tool allocate gigabytes.
static int size_ok(uint64_t width, uint64_t height, uint64_t channels) {
  return width > 0 && height > 0 && width * height * channels <= ((uint64_t)256 << 20);
}

// Starts reading a PNG: header parsed, output format chosen (8-bit gray or
// RGB, alpha composited on black), size checked. On failure the image is
// released and -1 returned with a message.
static int png_begin(const uint8_t *data, size_t size, png_image *image, int *channels, char *error,
                     size_t error_size) {
  memset(image, 0, sizeof *image);
  image->version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(image, data, size)) {
    set_error(error, error_size, "not a readable PNG", image->message);
    png_image_free(image);
    return -1;
  }
  int gray = (image->format & PNG_FORMAT_FLAG_COLOR) == 0;
  image->format = gray ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  *channels = gray ? 1 : 3;
  if (!size_ok(image->width, image->height, (uint64_t)*channels)) {
    set_error(error, error_size, "PNG dimensions out of range", NULL);
    png_image_free(image);
    return -1;
  }
  return 0;
}

int cnnrt_png_info(const uint8_t *data, size_t size, cnnrt_decoded_image *out, char *error, size_t error_size) {
  memset(out, 0, sizeof *out);
  png_image image;
  int channels = 0;
  if (png_begin(data, size, &image, &channels, error, error_size) != 0) return -1;
  out->width = (int32_t)image.width;
  out->height = (int32_t)image.height;
  out->channels = channels;
  png_image_free(&image);
  return 0;
}

int cnnrt_decode_png_into(const uint8_t *data, size_t size, uint8_t *pixels, size_t capacity, char *error,
                          size_t error_size) {
  png_image image;
  int channels = 0;
  if (png_begin(data, size, &image, &channels, error, error_size) != 0) return -1;
  if (pixels == NULL || capacity < PNG_IMAGE_SIZE(image)) {
    set_error(error, error_size, "pixel buffer smaller than the PNG image", NULL);
    png_image_free(&image);
    return -1;
  }
  png_color black = {0, 0, 0};
  if (!png_image_finish_read(&image, &black, pixels, 0, NULL)) {
    set_error(error, error_size, "corrupt PNG", image.message);
    png_image_free(&image);
    return -1;
  }
  return 0;
}

struct jpeg_error_context {
  struct jpeg_error_mgr manager;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warned;  // libjpeg reports truncated or corrupt data as warnings
};

int cnnrt_write_png(const char *path, const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                    char *error, size_t error_size) {
  if (!path || !pixels || width <= 0 || height <= 0 || (channels != 1 && channels != 3) ||
      !size_ok((uint64_t)width, (uint64_t)height, (uint64_t)channels)) {
    set_error(error, error_size, "PNG writer", "bad image size or channel count");
    return -1;
  }
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = (png_uint_32)width;
  image.height = (png_uint_32)height;
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&image, path, 0, pixels, (png_int_32)width * channels, NULL)) {
    set_error(error, error_size, "cannot write the PNG file", image.message);
    png_image_free(&image);
    return -1;
  }
  return 0;
}

static void jpeg_error_exit(j_common_ptr cinfo) {
  struct jpeg_error_context *context = (struct jpeg_error_context *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, context->message);
  longjmp(context->jump, 1);
}

static void jpeg_warning(j_common_ptr cinfo, int level) {
  struct jpeg_error_context *context = (struct jpeg_error_context *)cinfo->err;
  if (level < 0 && !context->warned) {
    context->warned = 1;
    (*cinfo->err->format_message)(cinfo, context->message);
  }
}

// Decodes a JPEG: with `pixels` NULL only the header is read and `out`
// receives the output size; otherwise the image is written into `pixels`
// (`capacity` bytes, at least width * height * channels) and `out` receives
// the same size fields.
static int jpeg_decode(const uint8_t *data, size_t size, cnnrt_decoded_image *out, uint8_t *pixels,
                       size_t capacity, char *error, size_t error_size) {
  memset(out, 0, sizeof *out);
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_context context;
  memset(&context, 0, sizeof context);
  cinfo.err = jpeg_std_error(&context.manager);
  context.manager.error_exit = jpeg_error_exit;
  context.manager.emit_message = jpeg_warning;
  if (setjmp(context.jump)) {
    set_error(error, error_size, "corrupt JPEG", context.message);
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
    set_error(error, error_size, "not a readable JPEG", NULL);
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    set_error(error, error_size, "CMYK JPEG images are not supported", NULL);
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  int gray = cinfo.num_components == 1;
  cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_calc_output_dimensions(&cinfo);
  int channels = cinfo.output_components;
  if (!size_ok(cinfo.output_width, cinfo.output_height, (uint64_t)channels)) {
    set_error(error, error_size, "JPEG dimensions out of range", NULL);
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  size_t stride = (size_t)cinfo.output_width * (size_t)channels;
  if (pixels != NULL) {
    if (capacity < stride * cinfo.output_height) {
      set_error(error, error_size, "pixel buffer smaller than the JPEG image", NULL);
      jpeg_destroy_decompress(&cinfo);
      return -1;
    }
    jpeg_start_decompress(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = pixels + stride * cinfo.output_scanline;
      jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    if (context.warned) {
      // A decoded image with invented rows is worse than an error.
      set_error(error, error_size, "corrupt or truncated JPEG", context.message);
      jpeg_destroy_decompress(&cinfo);
      return -1;
    }
  }
  out->width = (int32_t)cinfo.output_width;
  out->height = (int32_t)cinfo.output_height;
  out->channels = channels;
  jpeg_destroy_decompress(&cinfo);
  return 0;
}

int cnnrt_jpeg_info(const uint8_t *data, size_t size, cnnrt_decoded_image *out, char *error, size_t error_size) {
  return jpeg_decode(data, size, out, NULL, 0, error, error_size);
}

int cnnrt_decode_jpeg_into(const uint8_t *data, size_t size, uint8_t *pixels, size_t capacity, char *error,
                           size_t error_size) {
  cnnrt_decoded_image info;
  if (pixels == NULL) {
    set_error(error, error_size, "pixel buffer smaller than the JPEG image", NULL);
    return -1;
  }
  return jpeg_decode(data, size, &info, pixels, capacity, error, error_size);
}

int cnnrt_inflate(const uint8_t *data, size_t size, int raw, size_t limit, uint8_t **out,
                  size_t *out_size, char *error, size_t error_size) {
  *out = NULL;
  *out_size = 0;
  size_t capacity = size * 4 + 4096;
  if (capacity > limit) capacity = limit > 0 ? limit : 1;
  uint8_t *buffer = malloc(capacity);
  if (buffer == NULL) {
    set_error(error, error_size, "out of memory", NULL);
    return -1;
  }
  z_stream stream;
  memset(&stream, 0, sizeof stream);
  // 15 + 32: zlib or gzip, detected; -15: raw deflate.
  if (inflateInit2(&stream, raw ? -15 : 15 + 32) != Z_OK) {
    free(buffer);
    set_error(error, error_size, "zlib initialisation failed", NULL);
    return -1;
  }
  size_t produced = 0;
  size_t consumed = 0;
  int status = Z_OK;
  for (;;) {
    if (produced == capacity) {
      if (capacity >= limit) {
        status = Z_BUF_ERROR;
        set_error(error, error_size, "inflated data exceeds the size limit", NULL);
        break;
      }
      size_t next = capacity * 2 > limit ? limit : capacity * 2;
      uint8_t *grown = realloc(buffer, next);
      if (grown == NULL) {
        status = Z_MEM_ERROR;
        set_error(error, error_size, "out of memory", NULL);
        break;
      }
      buffer = grown;
      capacity = next;
    }
    size_t in_chunk = size - consumed > 0x40000000u ? 0x40000000u : size - consumed;
    size_t out_chunk = capacity - produced > 0x40000000u ? 0x40000000u : capacity - produced;
    stream.next_in = (Bytef *)(data + consumed);
    stream.avail_in = (uInt)in_chunk;
    stream.next_out = buffer + produced;
    stream.avail_out = (uInt)out_chunk;
    status = inflate(&stream, Z_NO_FLUSH);
    consumed += in_chunk - stream.avail_in;
    produced += out_chunk - stream.avail_out;
    if (status == Z_STREAM_END) {
      // Another gzip member may follow (gzip allows concatenation).
      if (!raw && size - consumed >= 2 && data[consumed] == 0x1f && data[consumed + 1] == 0x8b) {
        inflateReset(&stream);
        continue;
      }
      break;
    }
    if (status == Z_OK) continue;
    if (status == Z_BUF_ERROR && stream.avail_out == 0) continue;
    if (status == Z_BUF_ERROR) {
      set_error(error, error_size, "truncated compressed data", NULL);
    } else {
      set_error(error, error_size, "corrupt compressed data", stream.msg);
    }
    break;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) {
    free(buffer);
    return -1;
  }
  *out = buffer;
  *out_size = produced;
  return 0;
}
